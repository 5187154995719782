"""The tender state machine and its deadline arithmetic (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tenderhall.tenders import lifecycle
from tenderhall.tenders.lifecycle import TenderState as S
from tenderhall.tenders.procedures import ProcedureType, rules_for

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
OPEN = rules_for(ProcedureType.OPEN)


def test_happy_path_walks_every_stage() -> None:
    state = S.DRAFT
    for transition, expected in [
        ("publish", S.PUBLISHED),
        ("amend", S.PUBLISHED),
        ("close", S.CLOSED),
        ("start_opening", S.OPENING),
        ("finish_opening", S.OPENED),
        ("start_evaluation", S.EVALUATING),
        ("recommend", S.RECOMMENDED),
        ("award", S.AWARDED),
        ("archive", S.ARCHIVED),
    ]:
        state = lifecycle.next_state(state, transition)
        assert state is expected


@pytest.mark.parametrize("state", list(S))
def test_every_state_allows_exactly_its_transitions(state: S) -> None:
    allowed = set(lifecycle.allowed_transitions(state))
    for name in lifecycle.TRANSITIONS:
        if name in allowed:
            lifecycle.next_state(state, name)
        else:
            with pytest.raises(lifecycle.TransitionError):
                lifecycle.next_state(state, name)


def test_archived_is_terminal_and_side_exits_archive() -> None:
    assert lifecycle.allowed_transitions(S.ARCHIVED) == []
    assert lifecycle.next_state(S.FAILED, "archive") is S.ARCHIVED
    assert lifecycle.next_state(S.TERMINATED, "archive") is S.ARCHIVED
    with pytest.raises(lifecycle.TransitionError):
        lifecycle.next_state(S.AWARDED, "terminate")  # an award stands; it is not terminated


def test_unknown_transition_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown transition"):
        lifecycle.next_state(S.DRAFT, "teleport")


def test_deadline_boundary_closes_at_the_instant() -> None:
    deadline = NOW
    assert lifecycle.due_transitions(S.PUBLISHED, deadline, deadline - timedelta(microseconds=1)) == []
    assert lifecycle.due_transitions(S.PUBLISHED, deadline, deadline) == ["close"]
    assert lifecycle.due_transitions(S.PUBLISHED, deadline, deadline + timedelta(milliseconds=1)) == ["close"]
    assert lifecycle.due_transitions(S.DRAFT, deadline, deadline + timedelta(days=1)) == []
    assert lifecycle.due_transitions(S.CLOSED, deadline, deadline + timedelta(days=1)) == []


def test_bidding_period_minimum_is_exactly_twenty_days() -> None:
    lifecycle.check_publication(NOW, NOW + timedelta(days=20), OPEN)
    with pytest.raises(lifecycle.ScheduleError, match="20 days"):
        lifecycle.check_publication(NOW, NOW + timedelta(days=20) - timedelta(seconds=1), OPEN)
    # other procedures have their own minimum
    lifecycle.check_publication(NOW, NOW + timedelta(days=3), rules_for(ProcedureType.INQUIRY))


def test_amendment_pushes_a_deadline_closer_than_fifteen_days() -> None:
    # 实施条例 第二十一条: a change affecting preparation needs 15 days before the deadline.
    close = lifecycle.amend_deadline(NOW, NOW + timedelta(days=10), True, OPEN)
    assert close.pushed
    assert close.deadline == NOW + timedelta(days=15)
    exactly = lifecycle.amend_deadline(NOW, NOW + timedelta(days=15), True, OPEN)
    assert not exactly.pushed
    assert exactly.deadline == NOW + timedelta(days=15)
    just_under = lifecycle.amend_deadline(NOW, NOW + timedelta(days=15) - timedelta(seconds=1), True, OPEN)
    assert just_under.pushed
    assert just_under.deadline == NOW + timedelta(days=15)
    editorial = lifecycle.amend_deadline(NOW, NOW + timedelta(days=2), False, OPEN)
    assert not editorial.pushed
    assert editorial.deadline == NOW + timedelta(days=2)


def test_no_amendment_after_the_deadline() -> None:
    with pytest.raises(lifecycle.ScheduleError):
        lifecycle.amend_deadline(NOW, NOW, True, OPEN)
