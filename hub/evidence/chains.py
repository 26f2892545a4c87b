"""Walking a device's stored hash chain: every link recomputed, checkpoints compared.

A chain alone shows an edited, inserted, deleted or reordered row only if nobody rewrote
the digests after it. The signed checkpoints (and packs handed out) remember how many
signals a device had and the digest at that position; a chain rewritten since, or cut at
the tail with its head rewound, no longer has that digest there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.evidence.verify import GENESIS, chain_body, link
from hub.signals.models import DeviceState, Signal


@dataclass(frozen=True)
class Expected:
    """What a checkpoint (or a pack) recorded of a device: `count` signals ending in `head`."""

    count: int
    head: str
    source: str
    """Which record said so, as a person reads it (`checkpoint 12 of 2026-12-01 10:05+08:00`)."""


@dataclass
class ChainReport:
    """One device's chain as found."""

    device_id: str
    count: int = 0
    head: str = GENESIS
    first: datetime | None = None
    last: datetime | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """No broken link, and every checkpoint agrees."""
        return not self.problems


@dataclass(frozen=True)
class Link:
    """A stored signal with its place in the chain and the body its digest covers."""

    position: int
    id: int
    ts: datetime
    channel: str
    type: str | None
    key: str
    payload: dict[str, Any]
    prev: str
    digest: str
    body: bytes


_COLUMNS = (
    Signal.id,
    Signal.ts,
    Signal.channel,
    Signal.type,
    Signal.idem_key,
    Signal.payload,
    Signal.prev_digest,
    Signal.digest,
)


def links(*, session: Session, device_id: str) -> Iterator[Link]:
    """The device's signals in chain order (insertion order), with their positions."""
    query = (
        select(*_COLUMNS)
        .where(Signal.device_id == device_id)
        .order_by(Signal.id)
        .execution_options(yield_per=5000)
    )
    for position, (sid, ts, channel, kind, key, payload, prev, digest) in enumerate(
        session.execute(query), start=1
    ):
        body = chain_body(device_id, channel, kind, ts.isoformat(), key, payload)
        yield Link(position, sid, ts, channel, kind, key, payload, prev, digest, body)


def walk(
    *,
    session: Session,
    device_id: str,
    expected: Sequence[Expected] = (),
    stop_at_first: bool = True,
) -> ChainReport:
    """Recompute the device's chain and compare it with what was recorded; name what broke."""
    report = ChainReport(device_id)
    wanted: dict[int, list[Expected]] = {}
    for exp in expected:
        wanted.setdefault(exp.count, []).append(exp)
    prev = GENESIS
    for item in links(session=session, device_id=device_id):
        if item.prev != prev and not (report.problems and stop_at_first):
            report.problems.append(
                f"signal {item.id} (#{item.position}) does not follow #{item.position - 1}: "
                "a row before it was deleted, inserted or moved"
            )
        if link(item.prev, item.body) != item.digest and not (report.problems and stop_at_first):
            report.problems.append(
                f"signal {item.id} (#{item.position}): its content no longer matches its digest "
                "(edited after it was stored)"
            )
        for exp in wanted.get(item.position, ()):
            if exp.head != item.digest:
                report.problems.append(
                    f"signal #{item.position} is not the one {exp.source} recorded: "
                    "the chain was rewritten since"
                )
        prev = item.digest
        report.count = item.position
        report.head = item.digest
        report.first = report.first or item.ts
        report.last = item.ts
    for exp in expected:
        if exp.count > report.count:
            report.problems.append(
                f"{exp.source} recorded {exp.count} signals, the chain has {report.count}: "
                "signals were deleted from its end"
            )
    return report


def compare_state(report: ChainReport, state: DeviceState | None) -> None:
    """Add a problem when the device's stored chain head disagrees with its chain."""
    if state is None:
        if report.count:
            report.problems.append("the device has signals but no chain head")
        return
    if (state.signal_count, state.head_digest) != (report.count, report.head):
        report.problems.append(
            f"the stored chain head ({state.signal_count} signals, {state.head_digest[:12]}…) "
            f"does not match the chain ({report.count} signals, {report.head[:12]}…)"
        )


def segment(
    *, session: Session, device_id: str, since: datetime, upto: int
) -> tuple[list[Link], int]:
    """The chain from its first signal at or after `since` through position `upto`, and the
    total number of signals walked (the rest of the chain is not kept)."""
    kept: list[Link] = []
    walked = 0
    for item in links(session=session, device_id=device_id):
        walked = item.position
        if item.position > upto:
            break
        if kept or item.ts >= since:
            kept.append(item)
    return kept, walked


def states(*, session: Session, device_ids: Sequence[str]) -> Mapping[str, DeviceState]:
    """The chain heads of the devices."""
    rows = session.scalars(select(DeviceState).where(DeviceState.device_id.in_(device_ids)))
    return {s.device_id: s for s in rows}
