"""The complaint workflow: DOMAIN.md's nine steps as a table of moves, and the move itself.

Each move names what it requires of the case (a reason, an assignee, the remedy told to the
owner first, the owner's verdict on the callback); the desk and managers make the moves.
Entering a state starts the clock of the step that leads out of it (`policy.NEXT_STEP`);
reaching a state meets its own step's deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.cases import service as cases
from hub.cases.moves import Guard, Move, MoveTable
from hub.cases.watchdog import CaseType
from hub.complaints.enums import CallbackOutcome, Kind, ReplyPurpose, Responsibility, Status, Step
from hub.complaints.models import Complaint, ComplaintDeadline, ComplaintEvent
from hub.complaints.policy import NEXT_STEP, ComplaintPolicy
from hub.errors import Conflict, InvalidInput

S = Status
LABEL = "complaint"

# Kinds the desk may answer and archive on the spot (an inquiry, a suggestion noted).
ANSWERED_AT_DESK = frozenset({Kind.inquiry, Kind.suggestion})

DESK = frozenset({Role.front_desk, Role.manager})
"""Who runs the workflow (admins always may): the desk, and managers."""
MANAGERS = frozenset({Role.manager, Role.admin})


@dataclass(frozen=True)
class ComplaintMoveRequest:
    """What the desk asks of a move and the facts it records with it."""

    to: Status
    note: str = ""
    assignee: str | None = None
    outcome: CallbackOutcome | None = None
    reasonable: bool | None = None
    role: Role | None = None

    def assignee_after(self, complaint: Complaint) -> str | None:
        """Who is responsible once the move is made (None: keep; "": clear)."""
        return complaint.assignee if self.assignee is None else self.assignee or None

    def reasonable_after(self, complaint: Complaint) -> bool | None:
        """The desk's judgement once the move is made."""
        return complaint.reasonable if self.reasonable is None else self.reasonable


def _require(condition: bool, message: str, **details: object) -> None:
    if not condition:
        raise Conflict(message, details=details or None)


def _note_says(what: str) -> Guard[Complaint, ComplaintMoveRequest]:
    """A requirement that the move's note says `what`."""

    def guard(_complaint: Complaint, request: ComplaintMoveRequest) -> None:
        if not request.note:
            raise InvalidInput(what, details={"field": "note"})

    return guard


def _reason(_complaint: Complaint, request: ComplaintMoveRequest) -> None:
    if not request.note:
        raise InvalidInput(
            f"moving to {request.to} needs a reason in `note`", details={"field": "note"}
        )


def _resumes_where_held(complaint: Complaint, request: ComplaintMoveRequest) -> None:
    if request.to not in (complaint.held_from, S.withdrawn):
        raise Conflict(
            f"complaint {complaint.id} was put on hold from {complaint.held_from}; "
            "it resumes there (or is withdrawn)",
            details={
                "from": complaint.status,
                "to": request.to,
                "allowed": [complaint.held_from, S.withdrawn],
            },
        )


def _answered_at_desk(complaint: Complaint, _request: ComplaintMoveRequest) -> None:
    _require(
        Kind(complaint.kind) in ANSWERED_AT_DESK,
        f"only an inquiry or a suggestion is archived on receipt, not a {complaint.kind}",
        kind=complaint.kind,
    )


def _verified_unreasonable(complaint: Complaint, request: ComplaintMoveRequest) -> None:
    _require(
        request.reasonable_after(complaint) is False,
        "only a complaint verified as unreasonable is archived after verification",
    )


def _has_assignee(complaint: Complaint, request: ComplaintMoveRequest) -> None:
    if not request.assignee_after(complaint):
        raise InvalidInput(
            "assigning needs the responsible person, department or outside party",
            details={"field": "assignee"},
        )


def _responsibility_stated(complaint: Complaint, _request: ComplaintMoveRequest) -> None:
    _require(
        complaint.responsibility != Responsibility.non_property
        or complaint.responsibility_stated_at is not None,
        "a non-property complaint states responsibility to the owner first: "
        "record a reply with purpose `responsibility`",
        responsibility=complaint.responsibility,
        party=complaint.party,
    )


def _since_entering(complaint: Complaint, status: Status) -> list[ComplaintEvent]:
    """The events recorded since the case last moved into `status` (all, if it never did)."""
    history = list(complaint.history)
    for index in range(len(history) - 1, -1, -1):
        event = history[index]
        if event.to_status == status != event.from_status:
            return history[index + 1 :]
    return history


def _remedy_told(complaint: Complaint, _request: ComplaintMoveRequest) -> None:
    _require(
        any(
            e.action == "reply" and e.note.startswith(ReplyPurpose.remedy)
            for e in _since_entering(complaint, S.remedy_proposed)
        ),
        "record the remedy told to the owner first (a reply with purpose `remedy`)",
    )


def _has_outcome(_complaint: Complaint, request: ComplaintMoveRequest) -> None:
    if request.outcome is None:
        raise InvalidInput(
            "a callback records the owner's verdict in `outcome`", details={"field": "outcome"}
        )


def _satisfied(complaint: Complaint) -> bool:
    return complaint.callback_outcome == CallbackOutcome.satisfied


def _archive_after_callback(complaint: Complaint, request: ComplaintMoveRequest) -> None:
    if not _satisfied(complaint):
        _require(
            request.role in MANAGERS and bool(request.note),
            "an owner who is not satisfied reopens the case; only a manager archives it, "
            "with the reason in `note`",
        )


def _not_satisfied(complaint: Complaint, _request: ComplaintMoveRequest) -> None:
    _require(
        not _satisfied(complaint),
        "the owner was satisfied: archive the case (a reopening needs a callback "
        "outcome of not_satisfied)",
    )


_WITHDRAW = (_reason,)
_HOLD = (_reason,)
_ASSIGN = (_has_assignee, _responsibility_stated)
_REOPEN = (_not_satisfied, _note_says("say what is still wrong in `note`"))


def _resume(target: Status) -> Move[Complaint, ComplaintMoveRequest]:
    """Leaving a hold goes back where the case was (the step's own requirements apply)."""
    extra = {S.assigned: _ASSIGN, S.withdrawn: _WITHDRAW}.get(target, ())
    return Move(S.on_hold, target, requires=(_resumes_where_held, *extra))


MOVES: MoveTable[Complaint, ComplaintMoveRequest] = MoveTable(
    LABEL,
    Status,
    [
        Move(S.received, S.verified),
        Move(
            S.received,
            S.archived,
            requires=(_answered_at_desk, _note_says("say how it was answered in `note`")),
        ),
        Move(S.received, S.withdrawn, requires=_WITHDRAW),
        Move(S.verified, S.investigating),
        Move(
            S.verified,
            S.archived,
            requires=(
                _verified_unreasonable,
                _note_says("record the explanation given to the owner in `note`"),
            ),
        ),
        Move(S.verified, S.withdrawn, requires=_WITHDRAW),
        Move(S.investigating, S.assigned, requires=_ASSIGN),
        Move(S.investigating, S.on_hold, requires=_HOLD),
        Move(S.investigating, S.withdrawn, requires=_WITHDRAW),
        Move(S.assigned, S.remedy_proposed),
        Move(S.assigned, S.on_hold, requires=_HOLD),
        Move(S.assigned, S.withdrawn, requires=_WITHDRAW),
        Move(S.remedy_proposed, S.replied, requires=(_remedy_told,)),
        Move(S.remedy_proposed, S.on_hold, requires=_HOLD),
        Move(S.remedy_proposed, S.withdrawn, requires=_WITHDRAW),
        Move(S.replied, S.implementing, action="owner_accepted"),
        Move(
            S.replied,
            S.remedy_proposed,
            action="owner_rejected",
            requires=(_note_says("record the owner's objection and the alternatives in `note`"),),
        ),
        Move(S.implementing, S.resolved),
        Move(S.implementing, S.on_hold, requires=_HOLD),
        *(
            _resume(target)
            for target in (S.investigating, S.assigned, S.remedy_proposed, S.implementing)
        ),
        _resume(S.withdrawn),
        Move(S.resolved, S.callback, requires=(_has_outcome,)),
        Move(S.callback, S.archived, requires=(_archive_after_callback,)),
        Move(S.callback, S.implementing, action="reopened", requires=_REOPEN),
        Move(S.callback, S.remedy_proposed, action="reopened", requires=_REOPEN),
    ],
    roles=DESK,
)
"""Every move of the workflow and what each requires; anything else is refused with 409."""

TERMINAL = MOVES.terminal
ACTIVE = frozenset(set(Status) - TERMINAL)

CASES: CaseType[Complaint] = CaseType(
    label=LABEL,
    case=Complaint,
    deadline=ComplaintDeadline,
    parent=ComplaintDeadline.complaint,
    event=ComplaintEvent,
    running=frozenset(ACTIVE - {S.on_hold}),
)
"""Complaints as the shared breach watchdog sees them."""


def start(complaint: Complaint, *, policy: ComplaintPolicy, step: Step, now: datetime) -> None:
    """Start the clock of `step` in the complaint's current cycle."""
    complaint.deadlines.append(
        ComplaintDeadline(
            step=step,
            cycle=complaint.reopen_count,
            started_at=now,
            due_at=now + policy.allowed(step),
        )
    )


def meet(
    complaint: Complaint, *, policy: ComplaintPolicy, step: Step, now: datetime, actor: str
) -> None:
    """The complaint reached `step`: its deadline is met, and breached if late."""
    cases.meet(
        complaint,
        step=step,
        now=now,
        event=ComplaintEvent,
        label=LABEL,
        actor=actor,
        zone=policy.zone,
    )


def transition(
    *,
    session: Session,
    policy: ComplaintPolicy,
    complaint: Complaint,
    to: Status,
    actor: str,
    now: datetime,
    note: str = "",
    assignee: str | None = None,
    outcome: CallbackOutcome | None = None,
    reasonable: bool | None = None,
    role: Role | None = None,
    satisfaction: int | None = None,
) -> Complaint:
    """Move a complaint one step of the workflow, if the workflow and the case allow it.

    `role` None is the hub itself; the workflow's moves are for the desk and managers.
    """
    current = Status(complaint.status)
    to = Status(to)
    request = ComplaintMoveRequest(
        to=to,
        note=note.strip(),
        assignee=assignee.strip() if assignee is not None else None,
        outcome=outcome,
        reasonable=reasonable,
        role=role,
    )
    move = MOVES.check(complaint, request, source=current, target=to, role=role)
    complaint.assignee = request.assignee_after(complaint)
    complaint.reasonable = request.reasonable_after(complaint)
    if to == S.callback:
        complaint.callback_outcome = outcome
        complaint.callback_at = now
        complaint.callback_note = request.note
        complaint.satisfaction = satisfaction

    cases.move(
        session,
        complaint,
        ComplaintEvent,
        to=to,
        action=move.action,
        actor=actor,
        now=now,
        note=request.note,
        hold=S.on_hold,
        terminal=TERMINAL,
        deadlines=partial(
            _deadlines,
            complaint,
            policy=policy,
            to=to,
            reopening=move.action == "reopened",
            resuming=current == S.on_hold,
            now=now,
            actor=actor,
        ),
    )
    return complaint


def _deadlines(
    complaint: Complaint,
    *,
    policy: ComplaintPolicy,
    to: Status,
    reopening: bool,
    resuming: bool,
    now: datetime,
    actor: str,
) -> None:
    """Reaching a state meets its own step's deadline (a reopening: the archive's) and
    entering it starts the clock of the step out of it (not when resuming from a hold: that
    clock still runs)."""
    if reopening:
        meet(complaint, policy=policy, step=Step.archived, now=now, actor=actor)
        complaint.reopen_count += 1
        complaint.closed_at = None
    elif to.value in Step.__members__:
        meet(complaint, policy=policy, step=Step(to.value), now=now, actor=actor)
    if to in NEXT_STEP and not resuming:
        start(complaint, policy=policy, step=NEXT_STEP[to], now=now)


def callback_due(
    complaint: Complaint, *, policy: ComplaintPolicy, now: datetime, actor: str, note: str
) -> ComplaintDeadline | None:
    """The work on the complaint is done: its callback (回访) is due within the policy's time.

    A deadline row for `callback` counted from `now` (2 hours by default, for every case),
    met when the desk records the callback; None if the case is closed or one is pending.
    """
    if Status(complaint.status) in TERMINAL:
        return None
    for deadline in complaint.deadlines:
        if (
            deadline.step == Step.callback
            and deadline.cycle == complaint.reopen_count
            and deadline.met_at is None
        ):
            return None
    deadline = ComplaintDeadline(
        step=Step.callback,
        cycle=complaint.reopen_count,
        started_at=now,
        due_at=now + policy.allowed(Step.callback),
    )
    complaint.deadlines.append(deadline)
    cases.remark(complaint, ComplaintEvent, action="callback_due", actor=actor, at=now, note=note)
    complaint.updated_at = now
    return deadline
