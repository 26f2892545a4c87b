"""Adapter messages in a batch: mapped through the registry, translated, or quarantined.

Runs in the batch's transaction, before `hub.signals.flows.ingest_batch`:

- a topic of the hub's own (`fh/...`), or one no adapter claims, goes on unchanged (the
  latter to be dead-lettered as `bad_topic`);
- an adapter's own traffic (zigbee2mqtt's `bridge/...`, `.../set`) is counted and dropped;
- a registered device's message becomes the hub's reading on its hub topic
  `fh/{site}/{kind}/{device}/{channel}`, keeping the original topic and bytes for a dead
  letter; a payload the adapter cannot read goes on as a refusal, dead-lettered by ingest
  with the device's site like any other;
- an unregistered device's message is held in the quarantine (`hub.registry.quarantine`),
  or dead-lettered as `unknown_device` when the quarantine is full.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridges.adapters.base import Match, PayloadAdapter
from bridges.adapters.tasmota import Tasmota
from bridges.adapters.zigbee2mqtt import Zigbee2Mqtt
from devices.base import TOPIC_ROOT, Reason, Rejected
from hub.registry.enums import Adapter, DeviceKind
from hub.registry.models import Device
from hub.registry.quarantine import Heard, hold
from hub.settings import Settings
from hub.signals import bulk
from hub.signals.flows import BatchResult
from hub.signals.models import DeviceState
from hub.signals.service import Incoming, dead_letter_row

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Mapped:
    """A registered adapter device: its hub identity and the state the hub has of it."""

    id: str
    site_id: str
    kind: DeviceKind
    state: dict[str, Any]


@dataclass
class Translation:
    """A batch made ready for ingest, and what was settled on the way."""

    messages: list[Incoming] = field(default_factory=list)
    dead: list[tuple[dict[str, Any], bool]] = field(default_factory=list)
    """Dead-letter rows, each with whether its message was retained."""
    quarantined: int = 0
    ignored: int = 0

    def settle(self, *, session: Session, result: BatchResult) -> None:
        """Write the dead letters found here and add the counts to `result`."""
        replays = [(row["digest"], row["reason"]) for row, retained in self.dead if retained]
        known = bulk.known_dead_letters(session=session, wanted=replays) if replays else set()
        rows = [
            row
            for row, retained in self.dead
            if not (retained and (row["digest"], row["reason"]) in known)
        ]
        if rows:
            bulk.insert_dead_letters(session=session, rows=rows)
        for row in rows:
            result.reasons[row["reason"]] = result.reasons.get(row["reason"], 0) + 1
        result.dead += len(rows)
        result.duplicates += len(self.dead) - len(rows)
        result.quarantined += self.quarantined
        result.ignored += self.ignored


class Adapters:
    """The adapters switched on, and the translation of a batch through them."""

    def __init__(self, adapters: Sequence[PayloadAdapter], *, quarantine_limit: int) -> None:
        self.adapters = tuple(adapters)
        self.quarantine_limit = quarantine_limit

    @classmethod
    def from_settings(cls, settings: Settings) -> Adapters | None:
        """The adapters `FH_ADAPTERS` names, or None when it names none."""
        made: list[PayloadAdapter] = []
        for name in settings.adapter_names:
            if name == Adapter.zigbee2mqtt:
                made.append(Zigbee2Mqtt(settings.zigbee2mqtt_base_topic))
            elif name == Adapter.tasmota:
                made.append(Tasmota())
        if not made:
            return None
        return cls(made, quarantine_limit=settings.quarantine_limit)

    def roots(self) -> tuple[str, ...]:
        """Every adapter's topic filters."""
        return tuple(root for adapter in self.adapters for root in adapter.roots())

    def _match(self, topic: str) -> tuple[PayloadAdapter, Match] | None:
        for adapter in self.adapters:
            found = adapter.match(topic)
            if found is not None:
                return adapter, found
        return None

    def translate(self, *, session: Session, messages: Sequence[Incoming]) -> Translation:
        """The batch with adapter messages translated, held or dead-lettered, in order."""
        out = Translation()
        pending: list[tuple[int, Incoming, PayloadAdapter, Match]] = []
        for message in messages:
            if message.topic.startswith(f"{TOPIC_ROOT}/"):
                out.messages.append(message)
                continue
            try:
                found = self._match(message.topic)
            except Rejected as exc:
                row = dead_letter_row(message, reason=exc.reason, detail=exc.detail)
                out.dead.append((row, message.retain))
                continue
            if found is None:
                out.messages.append(message)
            elif found[1].ignored:
                out.ignored += 1
            else:
                pending.append((len(out.messages), message, *found))
                out.messages.append(message)  # a placeholder, replaced below
        if pending:
            self._translate(session=session, pending=pending, out=out)
        return out

    def _translate(
        self,
        *,
        session: Session,
        pending: Sequence[tuple[int, Incoming, PayloadAdapter, Match]],
        out: Translation,
    ) -> None:
        devices = _registered(
            session=session, keys={(m.adapter, m.external_id) for *_, m in pending}
        )
        heard: list[tuple[Heard, Incoming]] = []
        drop: set[int] = set()
        for at, message, adapter, match in pending:
            device = devices.get((match.adapter, match.external_id))
            if device is not None:
                out.messages[at] = _translated(adapter, match, message, device)
                continue
            item = Heard(
                match.adapter,
                match.external_id,
                message.topic,
                message.payload,
                message.received_at,
            )
            heard.append((item, message))
            drop.add(at)
        out.messages[:] = [m for i, m in enumerate(out.messages) if i not in drop]
        if not heard:
            return
        refused = hold(session=session, heard=[h for h, _m in heard], limit=self.quarantine_limit)
        out.quarantined += len(heard) - len(refused)
        of = {id(h): m for h, m in heard}
        for item in refused:
            message = of[id(item)]
            detail = (
                f"{item.adapter} device {item.external_id!r} is not registered"
                f" and the quarantine is full ({self.quarantine_limit} devices)"
            )
            row = dead_letter_row(message, reason=Reason.unknown_device, detail=detail)
            out.dead.append((row, message.retain))


def _translated(
    adapter: PayloadAdapter, match: Match, message: Incoming, device: _Mapped
) -> Incoming:
    """The message as the device's hub reading, or as a refusal ingest dead-letters."""
    hub_topic = f"{TOPIC_ROOT}/{device.site_id}/{device.kind}/{device.id}"
    ours = replace(
        message,
        topic=f"{hub_topic}/telemetry",
        origin_topic=message.topic,
        origin_payload=message.payload,
    )
    try:
        reading = adapter.translate(match, message.payload, kind=device.kind, last=device.state)
    except Rejected as exc:
        return replace(ours, refusal=exc)
    except Exception as exc:  # a bug in an adapter: this message fails, not the batch
        logger.exception("the %s adapter failed on %s", adapter.name, message.topic)
        detail = f"adapter failed: {type(exc).__name__}: {exc}"
        return replace(ours, refusal=Rejected(Reason.internal_error, detail))
    device.state.update(reading.fields)  # the next message of the batch sees this one
    return replace(
        ours,
        topic=f"{hub_topic}/{reading.channel}",
        payload=reading.payload,
        from_state=reading.from_state,
    )


def _registered(*, session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], _Mapped]:
    """The registered devices of these (adapter, external id) pairs, with their state."""
    ids = sorted({external for _adapter, external in keys})
    adapters = sorted({adapter for adapter, _external in keys})
    rows = session.execute(
        select(
            Device.id,
            Device.site_id,
            Device.kind,
            Device.adapter,
            Device.external_id,
            DeviceState.state,
        )
        .outerjoin(DeviceState, DeviceState.device_id == Device.id)
        .where(Device.adapter.in_(adapters), Device.external_id.in_(ids))  # its unique index
    ).all()
    found: dict[tuple[str, str], _Mapped] = {}
    for device_id, site_id, kind, adapter, external_id, state in rows:
        if (adapter, external_id) in keys:
            found[(adapter, external_id)] = _Mapped(
                device_id, site_id, DeviceKind(kind), dict(state or {})
            )
    return found
