"""Evaluation's rows of the policy table (DESIGN §6); the kernel assembles the one table.

Objects, all built by evaluation.access:
- Resource(kind="expert", region_id, user_id=<the expert's own account>): registry entries;
- Resource(kind="seat", state=<seat status>, user_id=<the drawn expert's account>): one seat;
- Resource(kind="evaluation", state=<tender state>, centre/region/organisations of the tender,
  registered_companies, user_id=<the asker's account if the asker holds an ACTIVE seat on this
  tender's committee, else None>).  An active seat means accepted *and* declared free of
  conflicts, so SELF here reads "a committee I sit on, after my 回避声明".
Expert identities (names, registry ids, the draw record, the committee list) are granted to
bidders, tenderers, agents and the public only once the result is published (awarded), so
nothing before that can leak them: tests/evaluation/test_access_matrix.py proves it.
"""

from __future__ import annotations

from bidding.policy import COMMITTEE_READING
from tenderhall.auth.policy import COMMITTEE_STATES, Rule, Scope
from tenderhall.auth.roles import Role
from tenderhall.tenders.lifecycle import TenderState as T

R = Role

RESULT_PUBLISHED = frozenset({T.AWARDED.value, T.ARCHIVED.value})
BEFORE_EVALUATION = frozenset(s.value for s in (T.PUBLISHED, T.CLOSED, T.OPENING, T.OPENED))
EVALUATING = frozenset({T.EVALUATING.value})
RECOMMENDED = frozenset({T.RECOMMENDED.value})
CANDIDATES_PUBLIC = frozenset(s.value for s in (T.RECOMMENDED, T.AWARDED, T.ARCHIVED))


def rules() -> list[Rule]:
    rows = [
        # The regional registry: staff and supervisors of the region; experts their own entry.
        Rule(None, "specialty.view", Scope.ANYONE),
        Rule(R.ADMIN, "specialty.import", Scope.ANY),
        Rule(R.STAFF, "specialty.import", Scope.ANY),
        Rule(R.ADMIN, "expert.view", Scope.ANY),
        Rule(R.STAFF, "expert.view", Scope.REGION),
        Rule(R.SUPERVISOR, "expert.view", Scope.REGION),
        Rule(R.EXPERT, "expert.view", Scope.SELF),
        Rule(R.ADMIN, "expert.manage", Scope.ANY),
        Rule(R.STAFF, "expert.manage", Scope.REGION),
        Rule(R.STAFF, "expert.rate", Scope.REGION),
        Rule(R.EXPERT, "expert.self_edit", Scope.SELF),
        Rule(R.ADMIN, "avoidance.edit", Scope.ANY),
        # Draws: staff request, a supervisor approves bent rules and supplies the randomness.
        Rule(R.STAFF, "draw.request", Scope.OWN_CENTRE, BEFORE_EVALUATION),
        Rule(R.SUPERVISOR, "draw.approve", Scope.REGION, BEFORE_EVALUATION),
        Rule(R.SUPERVISOR, "draw.reveal", Scope.REGION, BEFORE_EVALUATION),
        Rule(R.STAFF, "draw.view", Scope.OWN_CENTRE),
        Rule(R.SUPERVISOR, "draw.view", Scope.REGION),
        Rule(None, "draw.view", Scope.ANYONE, RESULT_PUBLISHED),
        Rule(R.STAFF, "committee.view", Scope.OWN_CENTRE),
        Rule(R.SUPERVISOR, "committee.view", Scope.REGION),
        Rule(R.EXPERT, "committee.view", Scope.SELF, COMMITTEE_STATES),
        Rule(None, "committee.view", Scope.ANYONE, RESULT_PUBLISHED),
        Rule(R.STAFF, "committee.manage", Scope.OWN_CENTRE),
        # A drawn expert answers the call, then declares (回避声明) before seeing anything.
        Rule(R.EXPERT, "seat.view", Scope.SELF),
        Rule(R.EXPERT, "seat.respond", Scope.SELF, frozenset({"notified"})),
        Rule(R.EXPERT, "seat.declare", Scope.SELF, frozenset({"accepted"})),
        # The remote workspace: only the committee, only after opening.
        Rule(
            R.EXPERT, "evaluation.bids.view", Scope.SELF, frozenset({T.EVALUATING.value, T.RECOMMENDED.value})
        ),
        Rule(R.EXPERT, "evaluation.review", Scope.SELF, EVALUATING),
        Rule(R.EXPERT, "evaluation.score", Scope.SELF, EVALUATING),
        Rule(R.EXPERT, "evaluation.sign", Scope.SELF, EVALUATING),
        Rule(R.EXPERT, "evaluation.progress.view", Scope.SELF, COMMITTEE_STATES),
        Rule(R.STAFF, "evaluation.progress.view", Scope.OWN_CENTRE),
        Rule(R.SUPERVISOR, "evaluation.progress.view", Scope.REGION),
        Rule(R.STAFF, "evaluation.stats.view", Scope.OWN_CENTRE),
        Rule(R.SUPERVISOR, "evaluation.stats.view", Scope.REGION),
        Rule(R.EXPERT, "evaluation.report.view", Scope.SELF, COMMITTEE_STATES),
        Rule(R.STAFF, "evaluation.report.view", Scope.OWN_CENTRE),
        Rule(R.SUPERVISOR, "evaluation.report.view", Scope.REGION),
        # 评定分离 and publicity.
        Rule(None, "publicity.view", Scope.ANYONE, CANDIDATES_PUBLIC),
        Rule(R.BIDDER, "objection.raise", Scope.REGISTERED, RECOMMENDED),
        Rule(R.BIDDER, "objection.view", Scope.REGISTERED, CANDIDATES_PUBLIC),
        Rule(R.STAFF, "objection.view", Scope.OWN_CENTRE),
        Rule(R.SUPERVISOR, "objection.view", Scope.REGION),
        Rule(R.SUPERVISOR, "decision.file", Scope.REGION, RECOMMENDED),
        Rule(R.SUPERVISOR, "decision.view", Scope.REGION),
        Rule(R.STAFF, "decision.view", Scope.OWN_CENTRE),
        Rule(R.STAFF, "award.issue", Scope.OWN_CENTRE, RECOMMENDED),
        Rule(None, "notice.view", Scope.ANYONE, RESULT_PUBLISHED),
    ]
    # Tenderer representatives (招标人代表): the tenderer or its agent seats the tenderer's own staff
    # on the seats the draw request leaves to it.  Seated, a representative is a member like any
    # other: SELF is the same "active seat on this committee" as for experts.  Never committee.view
    # or seat.view: expert names stay sealed from the tenderer's side until the award.
    for role in (R.TENDERER, R.AGENT):
        rows.append(Rule(role, "committee.representative.appoint", Scope.OWN_ORG, BEFORE_EVALUATION))
    rows += [
        Rule(R.TENDERER, "seat.declare", Scope.SELF, frozenset({"accepted"})),
        Rule(R.TENDERER, "evaluation.bids.view", Scope.SELF, COMMITTEE_READING),
        Rule(R.TENDERER, "evaluation.review", Scope.SELF, EVALUATING),
        Rule(R.TENDERER, "evaluation.score", Scope.SELF, EVALUATING),
        Rule(R.TENDERER, "evaluation.sign", Scope.SELF, EVALUATING),
        Rule(R.TENDERER, "evaluation.progress.view", Scope.SELF, COMMITTEE_STATES),
        Rule(R.TENDERER, "evaluation.report.view", Scope.SELF, COMMITTEE_STATES),
    ]
    for role in (R.TENDERER, R.AGENT):
        rows += [
            Rule(role, "evaluation.report.view", Scope.OWN_ORG, CANDIDATES_PUBLIC),
            Rule(role, "decision.make", Scope.OWN_ORG, RECOMMENDED),
            Rule(role, "decision.view", Scope.OWN_ORG),
            Rule(role, "objection.view", Scope.OWN_ORG),
            Rule(role, "objection.answer", Scope.OWN_ORG, RECOMMENDED),
            Rule(role, "award.issue", Scope.OWN_ORG, RECOMMENDED),
        ]
    for role in Role:
        rows.append(Rule(role, "notification.view", Scope.SELF))
    return rows
