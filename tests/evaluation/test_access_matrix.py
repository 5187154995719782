"""The policy as a matrix: who may do which evaluation action in which tender state.

Expert identities (registry entries, the committee list, the draw record) never reach a bidder,
the tenderer, its agent or an anonymous visitor before the result is published (awarded).
"""

from __future__ import annotations

import uuid

import pytest

from evaluation.policy import RESULT_PUBLISHED
from tenderhall.auth.policy import Resource, Subject, permits, policy
from tenderhall.auth.roles import Role
from tenderhall.tenders.lifecycle import TenderState

REGION, CENTRE, ORG, COMPANY, USER = (uuid.uuid4() for _ in range(5))
NAME_ACTIONS = ("committee.view", "draw.view", "expert.view", "seat.view")
EVALUATION_ACTIONS = sorted(
    {
        r.action
        for r in policy().rules
        if r.action.split(".")[0]
        in {
            "specialty",
            "expert",
            "avoidance",
            "draw",
            "committee",
            "seat",
            "evaluation",
            "publicity",
            "objection",
            "decision",
            "award",
            "notice",
        }
    }
)


def insider_resource(kind: str, state: str) -> Resource:
    """The most favourable object for the asker: its own org, company, centre and user."""
    return Resource(
        kind=kind,
        state=state,
        region_id=REGION,
        centre_id=CENTRE,
        organisation_ids=frozenset({ORG}),
        company_id=COMPANY,
        user_id=USER,
        registered_companies=frozenset({COMPANY}),
    )


def subject(role: Role | None) -> Subject:
    if role is None:
        return Subject.anonymous()
    return Subject(
        role=role, user_id=USER, region_id=REGION, centre_id=CENTRE, organisation_id=ORG, company_id=COMPANY
    )


@pytest.mark.parametrize("role", [Role.BIDDER, Role.TENDERER, Role.AGENT, None])
@pytest.mark.parametrize("state", [s.value for s in TenderState])
def test_names_sealed_from_outsiders_until_published(role: Role | None, state: str) -> None:
    for action in NAME_ACTIONS:
        for kind in ("evaluation", "expert", "seat"):
            allowed = permits(subject(role), action, insider_resource(kind, state))
            assert not allowed or state in RESULT_PUBLISHED, (role, action, state)


EXPECTED = {
    # action: roles allowed (in at least one state) on their own objects
    "draw.request": {Role.STAFF},
    "draw.approve": {Role.SUPERVISOR},
    "draw.reveal": {Role.SUPERVISOR},
    "seat.respond": {Role.EXPERT},
    # A seated tenderer representative (招标人代表) declares and evaluates like an expert; SELF
    # is an active seat on this committee, which test_representative_needs_an_active_seat checks.
    "seat.declare": {Role.EXPERT, Role.TENDERER},
    "evaluation.bids.view": {Role.EXPERT, Role.TENDERER},
    "evaluation.review": {Role.EXPERT, Role.TENDERER},
    "evaluation.score": {Role.EXPERT, Role.TENDERER},
    "evaluation.sign": {Role.EXPERT, Role.TENDERER},
    "committee.representative.appoint": {Role.TENDERER, Role.AGENT},
    "evaluation.stats.view": {Role.STAFF, Role.SUPERVISOR},
    "decision.make": {Role.TENDERER, Role.AGENT},
    "decision.file": {Role.SUPERVISOR},
    "objection.raise": {Role.BIDDER},
    "objection.answer": {Role.TENDERER, Role.AGENT},
    "award.issue": {Role.STAFF, Role.TENDERER, Role.AGENT},
    "expert.manage": {Role.STAFF, Role.ADMIN},
    "expert.self_edit": {Role.EXPERT},
}


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_matrix(action: str) -> None:
    allowed = {
        role
        for role in Role
        for state in [s.value for s in TenderState] + ["notified", "accepted", None]
        for kind in ("evaluation", "expert", "seat")
        if permits(subject(role), action, insider_resource(kind, state))  # type: ignore[arg-type]
    }
    assert allowed == EXPECTED[action]


def test_workspace_only_for_the_committee_and_only_after_opening() -> None:
    expert = subject(Role.EXPERT)
    not_member = Resource(
        kind="evaluation", state="evaluating", region_id=REGION, centre_id=CENTRE, user_id=None
    )
    member = Resource(kind="evaluation", state="evaluating", region_id=REGION, centre_id=CENTRE, user_id=USER)
    assert not permits(expert, "evaluation.bids.view", not_member)
    assert permits(expert, "evaluation.bids.view", member)
    for state in ("published", "closed", "opening", "opened"):
        early = Resource(kind="evaluation", state=state, user_id=USER)
        assert not permits(expert, "evaluation.bids.view", early)
        assert not permits(expert, "evaluation.score", early)


def test_every_evaluation_action_is_listed() -> None:
    assert "committee.view" in EVALUATION_ACTIONS
    assert len(EVALUATION_ACTIONS) > 20


def test_representative_needs_an_active_seat() -> None:
    """The tenderer's staff reach the workspace only through an active seat on that committee."""
    tenderer = subject(Role.TENDERER)
    for state in ("evaluating", "recommended"):
        own_org_no_seat = Resource(
            kind="evaluation", state=state, organisation_ids=frozenset({ORG}), user_id=None
        )
        seated = Resource(kind="evaluation", state=state, organisation_ids=frozenset({ORG}), user_id=USER)
        assert not permits(tenderer, "evaluation.bids.view", own_org_no_seat)
        assert permits(tenderer, "evaluation.bids.view", seated)
        bid = Resource(kind="bid", state=state, organisation_ids=frozenset({ORG}), user_id=None)
        assert not permits(tenderer, "bid.content.view", bid)
    unseated = Resource(kind="evaluation", state="evaluating", organisation_ids=frozenset({ORG}))
    for action in ("evaluation.review", "evaluation.score", "evaluation.sign"):
        assert not permits(tenderer, action, unseated)
    agent = subject(Role.AGENT)
    seated = Resource(kind="evaluation", state="evaluating", user_id=USER)
    assert not permits(agent, "evaluation.bids.view", seated)  # only the tenderer's own staff sit
