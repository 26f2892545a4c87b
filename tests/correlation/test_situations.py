"""The labelled situations, each asserted; the known-issue precision and recall over them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.alarms.models import Alarm
from hub.clock import ManualClock
from hub.complaints.models import Complaint
from hub.complaints.phrases import check
from hub.correlation.enums import LinkType
from hub.correlation.service import attached, known_issues
from hub.correlation.weights import KNOWN_ISSUE_THRESHOLD
from hub.registry.enums import DeviceKind
from tests.correlation.situations import HELD_OUT, SITUATIONS, Situation
from tests.correlation.world import POLICIES, correlate, file, file_with_order, raise_fault, world


@dataclass(frozen=True)
class Outcome:
    """What the desk saw for a situation."""

    expected: int | None
    got: int | None


def _run(db: Session, clock: ManualClock, case: Situation) -> Outcome:
    w = world(db, clock)
    orders = [raise_fault(w, fault) for fault in case.faults]
    filed = [file_with_order(w, f) for f in case.filed]
    complaint = file(w, case.content, location=case.location, unit=case.unit)
    found = correlate(w, complaint)
    alarms = {link.candidate.id for link in found.links if link.candidate.type is LinkType.alarm}
    fault_alarms = _alarm_ids(db, case)
    for index in case.linked:
        assert fault_alarms[index] in alarms, (case.id, "should link", index, found.links)
    for index in case.unlinked:
        assert fault_alarms[index] not in alarms, (case.id, "should not link", index, found.links)
    expected: int | None = None
    if isinstance(case.known, int):
        order = orders[case.known]
        assert order is not None
        expected = order.id
    elif isinstance(case.known, str):
        expected = filed[int(case.known.removeprefix("filed"))].id
    got = found.known.candidate.id if found.known else None
    if got is not None:
        _reply_is_sound(db, clock, complaint.id)
    return Outcome(expected, got)


def _alarm_ids(db: Session, case: Situation) -> list[int]:
    ids = []
    for fault in case.faults:
        ids.append(
            db.scalar(
                select(Alarm.id)
                .where(Alarm.device_id == fault.device, Alarm.type == fault.alarm)
                .order_by(Alarm.id.desc())
                .limit(1)
            )
        )
    return [int(i) for i in ids]


def _reply_is_sound(db: Session, clock: ManualClock, complaint_id: int) -> None:
    complaint = db.get_one(Complaint, complaint_id)
    link = attached(session=db, complaint_id=complaint_id)
    assert link is not None
    assert link.score >= KNOWN_ISSUE_THRESHOLD
    view = known_issues(
        session=db,
        complaints=[complaint],
        links={complaint_id: link},
        now=clock.now(),
        zone=POLICIES.zone,
    )[complaint_id]
    assert check(view.reply_suggestion) == [], view.reply_suggestion
    assert check(view.reply_suggestion_en) == [], view.reply_suggestion_en
    assert "月" in view.reply_suggestion or view.next_due is None
    assert "+08:00" not in view.reply_suggestion
    if view.status == "on_hold":
        assert "等灯管到货" in view.reply_suggestion
        assert "since" in view.reply_suggestion_en


@pytest.mark.parametrize("case", SITUATIONS + HELD_OUT, ids=[c.id for c in SITUATIONS + HELD_OUT])
def test_situation(db: Session, clock: ManualClock, case: Situation) -> None:
    outcome = _run(db, clock, case)
    assert outcome.got == outcome.expected, case


def test_the_set_covers_what_the_desk_meets() -> None:
    tags = set().union(*(c.tags for c in SITUATIONS))
    assert len(SITUATIONS) >= 60
    assert {"zh", "en", "negative", "unit", "floor", "building", "text", "none"} <= tags
    assert {str(k) for k in DeviceKind} <= tags
    assert {"on_hold", "cleared_long_ago"} <= tags
    positives = [c for c in SITUATIONS if c.known is not None]
    assert 20 <= len(positives) <= len(SITUATIONS) - 20


def _figures(db: Session, clock: ManualClock, cases: tuple[Situation, ...]) -> tuple[float, float]:
    """Precision and recall of the known issues over `cases`, each in its own savepoint."""
    tp = fp = fn = 0
    for case in cases:
        nested = db.begin_nested()
        try:
            outcome = _run(db, clock, case)
        finally:
            nested.rollback()
            db.expunge_all()
        if outcome.got is not None and outcome.got == outcome.expected:
            tp += 1
        else:
            fp += outcome.got is not None
            fn += outcome.expected is not None
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(
        f"known issues over {len(cases)} situations: precision {precision:.3f}, "
        f"recall {recall:.3f} (tp {tp}, fp {fp}, fn {fn})"
    )
    return precision, recall


def test_known_issue_precision_and_recall(db: Session, clock: ManualClock) -> None:
    """The figures of the labelled set, and of the situations written after tuning."""
    precision, recall = _figures(db, clock, SITUATIONS)
    assert precision >= 0.95
    assert recall >= 0.90
    held_precision, held_recall = _figures(db, clock, HELD_OUT)
    assert held_precision >= 0.95
    assert held_recall >= 0.90
