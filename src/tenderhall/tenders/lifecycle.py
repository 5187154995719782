"""The tender state machine (DESIGN §3), pure logic.

Transitions are named; each names the states it may leave and the state it reaches.  Time-driven
transitions (the deadline) are computed from a clock reading passed in, so the caller decides them
inside the database transaction that acts on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tenderhall.tenders.procedures import ProcedureRules


class TenderState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"
    OPENING = "opening"
    OPENED = "opened"
    EVALUATING = "evaluating"
    RECOMMENDED = "recommended"
    AWARDED = "awarded"
    ARCHIVED = "archived"
    FAILED = "failed"  # 流标
    TERMINATED = "terminated"


S = TenderState

# transition name → (states it may leave, state it reaches)
TRANSITIONS: dict[str, tuple[frozenset[TenderState], TenderState]] = {
    "publish": (frozenset({S.DRAFT}), S.PUBLISHED),
    "amend": (frozenset({S.PUBLISHED}), S.PUBLISHED),
    "close": (frozenset({S.PUBLISHED}), S.CLOSED),
    "start_opening": (frozenset({S.CLOSED}), S.OPENING),
    "finish_opening": (frozenset({S.OPENING}), S.OPENED),
    "start_evaluation": (frozenset({S.OPENED}), S.EVALUATING),
    "recommend": (frozenset({S.EVALUATING}), S.RECOMMENDED),
    "award": (frozenset({S.RECOMMENDED}), S.AWARDED),
    "fail": (frozenset({S.CLOSED, S.OPENING, S.OPENED, S.EVALUATING, S.RECOMMENDED}), S.FAILED),
    "terminate": (
        frozenset({S.DRAFT, S.PUBLISHED, S.CLOSED, S.OPENING, S.OPENED, S.EVALUATING, S.RECOMMENDED}),
        S.TERMINATED,
    ),
    "archive": (frozenset({S.AWARDED, S.FAILED, S.TERMINATED}), S.ARCHIVED),
}

TERMINAL = frozenset({S.ARCHIVED})


class TransitionError(Exception):
    """A transition was asked for in a state that does not allow it."""

    def __init__(self, transition: str, state: TenderState) -> None:
        super().__init__(f"cannot {transition} a tender in state {state}")
        self.transition = transition
        self.state = state


def next_state(state: TenderState, transition: str) -> TenderState:
    try:
        sources, target = TRANSITIONS[transition]
    except KeyError:
        raise ValueError(f"unknown transition {transition!r}") from None
    if state not in sources:
        raise TransitionError(transition, state)
    return target


def allowed_transitions(state: TenderState) -> list[str]:
    return [name for name, (sources, _) in TRANSITIONS.items() if state in sources]


def due_transitions(state: TenderState, deadline: datetime | None, now: datetime) -> list[str]:
    """Time-driven transitions that are due at ``now``.

    A bid is in only if it arrives strictly before the deadline, so the tender closes at the
    deadline instant itself.
    """
    if state is S.PUBLISHED and deadline is not None and now >= deadline:
        return ["close"]
    return []


class ScheduleError(ValueError):
    """A proposed deadline breaks the procedure's minimum periods."""


@dataclass(frozen=True, slots=True)
class AmendmentOutcome:
    deadline: datetime
    pushed: bool


def check_publication(issued_at: datetime, deadline: datetime, rules: ProcedureRules) -> None:
    """Raise if the bidding period is shorter than the procedure allows (招标投标法 第二十四条)."""
    minimum = timedelta(days=rules.min_bidding_period_days)
    if deadline - issued_at < minimum:
        earliest = issued_at + minimum
        raise ScheduleError(
            f"the bidding period must be at least {rules.min_bidding_period_days} days: "
            f"the deadline may be no earlier than {earliest.isoformat()}"
        )


def amend_deadline(
    now: datetime, deadline: datetime, affects_preparation: bool, rules: ProcedureRules
) -> AmendmentOutcome:
    """The deadline after an amendment issued at ``now`` (招标投标法实施条例 第二十一条).

    A change that may affect bid preparation, issued less than ``amendment_notice_days`` before
    the deadline, pushes the deadline to exactly that many days after the amendment.
    """
    if now >= deadline:
        raise ScheduleError("the bidding deadline has passed; the tender can no longer be amended")
    notice = timedelta(days=rules.amendment_notice_days)
    if affects_preparation and deadline - now < notice:
        return AmendmentOutcome(deadline=now + notice, pushed=True)
    return AmendmentOutcome(deadline=deadline, pushed=False)
