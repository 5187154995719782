"""The alert workflow's table (``collusion.alert_states``) and the policy rows agree.

Collusion's policy rows (``collusion.policy``) name the workflow's state sets; this holds the two
together: each move is a policy action, and every state a row names is an ``AlertStatus`` in the
set the workflow gives it.
"""

from __future__ import annotations

from collusion import alert_states as st
from collusion.models import AlertStatus
from tenderhall.auth.policy import policy
from tenderhall.auth.roles import Role

# (role, move) -> the states it may start from, as the workflow names them.
EXPECTED = {
    (Role.STAFF, "assign"): st.OPEN,
    (Role.STAFF, "review"): st.NEW,
    (Role.STAFF, "comment"): st.UNDECIDED,
    (Role.SUPERVISOR, "comment"): st.UNDECIDED,
    (Role.STAFF, "confirm"): st.IN_REVIEW,
    (Role.STAFF, "dismiss"): st.IN_REVIEW,
    (Role.STAFF, "escalate"): st.OPEN,
    (Role.SUPERVISOR, "confirm"): st.ESCALATED,
    (Role.SUPERVISOR, "dismiss"): st.ESCALATED,
}


def test_every_move_is_a_policy_action() -> None:
    assert {m.action for m in st.MOVES} <= policy().actions


def test_policy_rows_name_the_workflow_states() -> None:
    moves = {m.action: m.name for m in st.MOVES}
    found = {
        (rule.role, moves[rule.action]): rule.states
        for rule in policy().rules
        if rule.action in moves and rule.states
    }
    assert found == EXPECTED
    for states in found.values():
        assert states <= set(AlertStatus)


def test_decided_alerts_take_no_moves() -> None:
    assert not st.DECIDED & st.UNDECIDED
    assert set(AlertStatus) == st.UNDECIDED | st.DECIDED
    assert {m.to for m in st.MOVES if m.to} == {AlertStatus.UNDER_REVIEW} | st.ESCALATED | st.DECIDED
