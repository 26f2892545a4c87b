"""Broker credentials: issued per device (or for the hub, a gateway, an integration).

The password is made here, shown once to whoever issued it, and only its `$7$` hash is
kept (`hub.registry.passwords`). `logins` gives the policy's view of every credential for
the Mosquitto files and the embedded broker (`hub.registry.acl`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import Conflict, InvalidInput, NotFound
from hub.registry.acl import USERNAME, Login
from hub.registry.enums import Adapter, BrokerRole
from hub.registry.models import BrokerCredential, Device
from hub.registry.passwords import hash_password, new_password

BRIDGE_USERNAME = "fhub-bridge"


def issue(
    *,
    session: Session,
    role: BrokerRole,
    now: datetime,
    device_id: str | None = None,
    username: str | None = None,
    adapter: Adapter | None = None,
    rotate: bool = False,
    iterations: int | None = None,
) -> tuple[BrokerCredential, str]:
    """A new credential and its password (shown once); `rotate` replaces an existing one."""
    device = None
    if role == BrokerRole.device:
        if device_id is None:
            raise InvalidInput("a device credential names its device")
        device = session.get(Device, device_id)
        if device is None:
            raise NotFound(f"device {device_id!r} not found")
        if device.adapter == Adapter.zigbee2mqtt:
            raise InvalidInput(
                f"{device_id!r} speaks through its zigbee2mqtt gateway: issue a gateway credential"
            )
        if device.external_id and any(c.isspace() for c in device.external_id):
            raise InvalidInput(
                f"{device_id!r} has the external id {device.external_id!r}: a topic with"
                " spaces cannot be written into Mosquitto's ACL"
            )
        username = username or device_id
    elif role == BrokerRole.bridge:
        username = username or BRIDGE_USERNAME
    elif role == BrokerRole.gateway:
        adapter = adapter or Adapter.zigbee2mqtt
        if adapter != Adapter.zigbee2mqtt:
            raise InvalidInput("only zigbee2mqtt publishes through a gateway")
    if not username or not USERNAME.match(username):
        raise InvalidInput("a username is 1-64 letters, digits, '_', '.', '-', starting with one")
    existing = session.get(BrokerCredential, username)
    if existing is not None and not rotate:
        raise Conflict(f"{username!r} has a credential already (rotate it to replace it)")
    password = new_password()
    hashed = (
        hash_password(password)
        if iterations is None
        else hash_password(password, iterations=iterations)
    )
    if existing is not None:
        session.delete(existing)
        session.flush()
    credential = BrokerCredential(
        username=username,
        role=role,
        device_id=device.id if device else None,
        adapter=adapter if role == BrokerRole.gateway else None,
        password_hash=hashed,
        created_at=now,
    )
    session.add(credential)
    session.flush()
    return credential, password


def revoke(*, session: Session, username: str) -> None:
    """Remove a credential; the broker refuses it once its files are written again."""
    credential = session.get(BrokerCredential, username)
    if credential is None:
        raise NotFound(f"no broker credential {username!r}")
    session.delete(credential)
    session.flush()


def logins(*, session: Session) -> Sequence[Login]:
    """Every credential with the device facts its topics depend on."""
    rows = session.execute(
        select(BrokerCredential, Device)
        .outerjoin(Device, BrokerCredential.device_id == Device.id)
        .order_by(BrokerCredential.username)
    ).all()
    return [
        Login(
            username=cred.username,
            role=BrokerRole(cred.role),
            password_hash=cred.password_hash,
            site=device.site_id if device else None,
            kind=device.kind if device else None,
            device=device.id if device else None,
            adapter=Adapter(device.adapter) if device and device.adapter else None,
            external_id=device.external_id if device else None,
        )
        for cred, device in rows
    ]
