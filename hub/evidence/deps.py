"""FastAPI dependencies of evidence: the hub's keyring, and who may see evidence."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request

from hub.access import Action
from hub.api.deps import allowed
from hub.auth.principal import Principal
from hub.evidence.keys import Keyring

_lock = threading.Lock()


def get_keyring(request: Request) -> Keyring:
    """The hub's keyring, opened (created on first start) once per application."""
    keyring: Keyring | None = getattr(request.app.state, "keyring", None)
    if keyring is None:
        with _lock:
            keyring = getattr(request.app.state, "keyring", None)
            if keyring is None:
                settings = request.app.state.settings
                keyring = Keyring.open(settings.key_dir, now=request.app.state.clock.now())
                request.app.state.keyring = keyring
    return keyring


KeyringDep = Annotated[Keyring, Depends(get_keyring)]
ReaderDep = Annotated[Principal, Depends(allowed(Action.read_evidence))]
"""Timelines: managers settle disputes, the desk answers the owner."""
ManagerDep = Annotated[Principal, Depends(allowed(Action.prove))]
"""Checks and packs: managers."""
