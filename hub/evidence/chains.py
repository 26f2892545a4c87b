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

from hub.evidence.verify import GENESIS, chain_body, link, pruned_run_problem
from hub.retention.models import PrunedRun
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
class Run:
    """Links retention pruned: the chain went from `prev` through `count` links to `last`."""

    device_id: str
    site: str
    first_position: int
    count: int
    prev: str
    last: str
    key_id: str
    signature: str

    @classmethod
    def of(cls, row: PrunedRun) -> Run:
        """The run a stored record describes."""
        return cls(
            row.device_id,
            row.site_id,
            row.first_position,
            row.count,
            row.prev_digest,
            row.last_digest,
            row.key_id,
            row.signature,
        )

    def record(self) -> dict[str, Any]:
        """The signed fields and the signature, as a pack carries them."""
        return {
            "count": self.count,
            "device_id": self.device_id,
            "first_position": self.first_position,
            "key_id": self.key_id,
            "last": self.last,
            "prev": self.prev,
            "site": self.site,
            "signature": self.signature,
        }

    @property
    def end(self) -> int:
        """The position of the run's last link."""
        return self.first_position + self.count - 1


def pruned_runs(
    *, session: Session, device_id: str, keys: Mapping[str, str]
) -> tuple[dict[str, Run], list[str]]:
    """The device's pruned runs whose signatures hold, by the digest before each, and the
    problems of those that do not (a walk cannot step over those: the chain breaks there)."""
    sound: dict[str, Run] = {}
    problems: list[str] = []
    rows = session.scalars(
        select(PrunedRun).where(PrunedRun.device_id == device_id).order_by(PrunedRun.id)
    )
    for row in rows:
        run = Run.of(row)
        problem = pruned_run_problem(run.record(), keys)
        if problem is None:
            sound[run.prev] = run
        else:
            problems.append(f"pruned signals #{run.first_position}–#{run.end}: {problem}")
    return sound, problems


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
    received_at: datetime | None = None
    pruned: tuple[Run, ...] = ()
    """Pruned runs the chain steps over just before this link."""


_COLUMNS = (
    Signal.id,
    Signal.ts,
    Signal.channel,
    Signal.type,
    Signal.idem_key,
    Signal.payload,
    Signal.prev_digest,
    Signal.digest,
    Signal.received_at,
)


def links(
    *, session: Session, device_id: str, runs: Mapping[str, Run] | None = None
) -> Iterator[Link]:
    """The device's signals in chain order (insertion order), with their positions.

    Where a signal does not follow the one before but a pruned run in `runs` starts there,
    the chain steps over the run: the positions count the pruned links.
    """
    query = (
        select(*_COLUMNS)
        .where(Signal.device_id == device_id)
        .order_by(Signal.id)
        .execution_options(yield_per=5000)
    )
    position, current = 0, GENESIS
    for sid, ts, channel, kind, key, payload, prev, digest, received in session.execute(query):
        stepped: list[Run] = []
        while runs and prev != current and current in runs and len(stepped) < len(runs):
            run = runs[current]
            stepped.append(run)
            position, current = run.end, run.last
        position += 1
        body = chain_body(
            device_id, channel, kind, ts.isoformat(), key, payload, received.isoformat()
        )
        if link(prev, body) != digest:  # a link of format 1 covers no receipt time
            older = chain_body(device_id, channel, kind, ts.isoformat(), key, payload)
            body = older if link(prev, older) == digest else body
        yield Link(
            position, sid, ts, channel, kind, key, payload, prev, digest, body, received,
            tuple(stepped),
        )  # fmt: skip
        current = digest


def walk(
    *,
    session: Session,
    device_id: str,
    expected: Sequence[Expected] = (),
    stop_at_first: bool = True,
    runs: Mapping[str, Run] | None = None,
) -> ChainReport:
    """Recompute the device's chain and compare it with what was recorded; name what broke.

    The chain may step over the signed pruned `runs`; a checkpoint's head that fell inside
    one can no longer be compared, one at its end is compared with the run's last digest.
    """
    report = ChainReport(device_id)
    wanted: dict[int, list[Expected]] = {}
    for exp in expected:
        wanted.setdefault(exp.count, []).append(exp)
    prev = GENESIS
    received: datetime | None = None
    for item in links(session=session, device_id=device_id, runs=runs):
        for run in item.pruned:
            for exp in wanted.get(run.end, ()):
                if exp.head != run.last:
                    report.problems.append(
                        f"signal #{run.end} is not the one {exp.source} recorded: "
                        "the chain was rewritten since"
                    )
            prev = run.last
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
        if (
            item.received_at is not None
            and received is not None
            and item.received_at < received
            and not (report.problems and stop_at_first)
        ):
            report.problems.append(
                f"signal {item.id} (#{item.position}) was received before #{item.position - 1}: "
                "receipt times run backwards (a backdated signal was appended)"
            )
        received = item.received_at or received
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
    *,
    session: Session,
    device_id: str,
    since: datetime,
    upto: int,
    runs: Mapping[str, Run] | None = None,
) -> tuple[list[Link], int]:
    """The chain from its first signal at or after `since` through position `upto`, and the
    total number of signals walked (the rest of the chain is not kept)."""
    kept: list[Link] = []
    walked = 0
    for item in links(session=session, device_id=device_id, runs=runs):
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
