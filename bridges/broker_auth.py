"""The embedded broker's logins and topic rules: the same policy Mosquitto is given.

Two amqtt plugins, loaded by amqtt's plugin manager only when `EmbeddedBroker` runs with a
policy: `HubAuthPlugin` lets in only the hub's broker credentials (no anonymous clients),
`HubTopicPlugin` holds each login to the topics `hub.registry.acl.grant` gives it.
A publish outside them is dropped (amqtt speaks MQTT 3.1.1, which has no reason code to
tell the publisher), a subscription outside them gets the failure return code 0x80.

The policy comes from a loader (the database's credentials) and is read again at most
every `refresh_s` seconds when a client connects, so a credential issued while the broker
runs is usable without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin

from hub.registry.acl import Policy

logger = logging.getLogger(__name__)


class PolicySource:
    """The current policy, loaded again when it is older than `refresh_s`."""

    def __init__(self, load: Callable[[], Policy], *, refresh_s: float = 5.0) -> None:
        self._load = load
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._policy = load()
        self._loaded = time.monotonic()

    def current(self, *, fresh: bool = False) -> Policy:
        """The policy; with `fresh`, reloaded first if it is older than `refresh_s`."""
        if fresh and time.monotonic() - self._loaded >= self.refresh_s:
            with self._lock:
                try:
                    self._policy = self._load()
                except Exception:  # the broker keeps the rules it had
                    logger.exception("could not reload the broker's credentials")
                self._loaded = time.monotonic()
        return self._policy


class HubAuthPlugin(BaseAuthPlugin):  # type: ignore[misc]
    """Lets in a client only with a username and password the hub issued."""

    @dataclass
    class Config:
        """The plugin's configuration: where the policy comes from."""

        source: Any = None

    async def authenticate(self, *, session: Any) -> bool:
        """True for a known username with its password; False for anyone else."""
        source: PolicySource = self.config.source
        username = getattr(session, "username", None)
        password = getattr(session, "password", None)
        allowed = source.current(fresh=True).authenticate(username, password)
        if not allowed:
            logger.warning("broker refused client %s (user %r)", session.client_id, username)
        return allowed


class HubTopicPlugin(BaseTopicPlugin):  # type: ignore[misc]
    """Holds each login to its own topics."""

    @dataclass
    class Config:
        """The plugin's configuration: where the policy comes from."""

        source: Any = None

    async def topic_filtering(
        self, *, session: Any = None, topic: str | None = None, action: Any = None
    ) -> bool:
        """Publishing and subscribing by the policy; delivery follows the subscription."""
        if action == Action.RECEIVE:
            return True  # what a client may subscribe to, it may receive
        if session is None or topic is None:
            return False
        policy = self.config.source.current()
        username = getattr(session, "username", None)
        if action == Action.PUBLISH:
            allowed: bool = policy.may_publish(username, topic)
        else:
            allowed = policy.may_subscribe(username, topic)
        if not allowed:
            logger.warning("broker refused %s of %r to user %r", action, topic, username)
        return allowed
