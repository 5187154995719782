"""The one policy table: role × action × object state × ownership → allowed.

Every handler asks :func:`permits` (through :func:`enforce`) before it acts, with the object it
acts on.  Anything not granted by a row is denied.  Where an object's existence must not leak,
callers check ``<kind>.view`` first and answer 404 when it is denied.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from tenderhall.auth.roles import Role
from tenderhall.errors import Forbidden, NotFound
from tenderhall.tenders.lifecycle import TenderState


class Scope(StrEnum):
    ANYONE = "anyone"  # also anonymous visitors (the ledger)
    PUBLISHED = "published"  # anyone, also anonymous, once the object was made public (notices)
    ANY = "any"  # any signed-in user of this role
    SELF = "self"  # the object is the user's own account
    OWN_COMPANY = "own_company"  # a bidder's own company or its objects
    OWN_ORG = "own_org"  # tender whose tenderer or agency is the user's organisation
    OWN_CENTRE = "own_centre"  # tender run by the staff member's centre
    REGION = "region"  # object in the user's region
    REGISTERED = "registered"  # tender the bidder's company registered for (报名)


@dataclass(frozen=True, slots=True)
class Subject:
    """Who asks; ``role`` is None for an anonymous visitor."""

    role: Role | None
    user_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None
    centre_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None

    @classmethod
    def anonymous(cls) -> Subject:
        return cls(role=None)


@dataclass(frozen=True, slots=True)
class Resource:
    kind: str
    state: str | None = None
    region_id: uuid.UUID | None = None
    centre_id: uuid.UUID | None = None
    organisation_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    company_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    registered_companies: frozenset[uuid.UUID] = field(default_factory=frozenset)
    # False for a tender that never had a public notice (e.g. a draft terminated before publication):
    # its state alone would otherwise make it public.
    published: bool = True


@dataclass(frozen=True, slots=True)
class Rule:
    role: Role | None  # None: anonymous visitors and every role
    action: str
    scope: Scope
    states: frozenset[str] | None = None  # None: any state


T = TenderState
PUBLIC_TENDER_STATES = frozenset(s.value for s in TenderState if s is not T.DRAFT)
OPEN_FOR_BIDDING = frozenset({T.PUBLISHED.value})
CAN_TERMINATE = frozenset(
    s.value for s in (T.DRAFT, T.PUBLISHED, T.CLOSED, T.OPENING, T.OPENED, T.EVALUATING, T.RECOMMENDED)
)
DRAFT = frozenset({T.DRAFT.value})
R = Role


def _rules() -> tuple[Rule, ...]:
    rows: list[Rule] = [
        # Tender notices are public once published; drafts only to their owners and centre.
        Rule(None, "tender.view", Scope.PUBLISHED, PUBLIC_TENDER_STATES),
        Rule(R.TENDERER, "tender.view", Scope.OWN_ORG),
        Rule(R.AGENT, "tender.view", Scope.OWN_ORG),
        Rule(R.STAFF, "tender.view", Scope.OWN_CENTRE),
        Rule(R.SUPERVISOR, "tender.view", Scope.REGION),
        Rule(R.TENDERER, "tender.create", Scope.ANY),
        Rule(R.AGENT, "tender.create", Scope.ANY),
        Rule(R.STAFF, "tender.create", Scope.ANY),
        Rule(R.BIDDER, "tender.register", Scope.ANY, OPEN_FOR_BIDDING),
        Rule(R.BIDDER, "tender.registration.view", Scope.REGISTERED),
        Rule(R.BIDDER, "clarification.ask", Scope.REGISTERED, OPEN_FOR_BIDDING),
        Rule(R.BIDDER, "clarification.view", Scope.REGISTERED),
        Rule(R.SUPERVISOR, "clarification.view", Scope.REGION),
        Rule(R.SUPERVISOR, "tender.registration.view", Scope.REGION),
        Rule(R.SUPERVISOR, "tender.events.view", Scope.REGION),
        Rule(R.STAFF, "tender.events.view", Scope.OWN_CENTRE),
    ]
    for role, scope in ((R.TENDERER, Scope.OWN_ORG), (R.AGENT, Scope.OWN_ORG), (R.STAFF, Scope.OWN_CENTRE)):
        rows += [
            Rule(role, "tender.edit", scope, DRAFT),
            Rule(role, "tender.publish", scope, DRAFT),
            Rule(role, "tender.amend", scope, OPEN_FOR_BIDDING),
            Rule(role, "tender.terminate", scope, CAN_TERMINATE),
            Rule(role, "clarification.view", scope),
            Rule(role, "clarification.answer", scope, OPEN_FOR_BIDDING),
            Rule(role, "tender.registration.view", scope),
        ]
    rows += [
        # Companies: a bidder sees and edits only its own; staff and supervisors of the region read.
        Rule(R.BIDDER, "company.view", Scope.OWN_COMPANY),
        Rule(R.BIDDER, "company.edit", Scope.OWN_COMPANY),
        Rule(R.STAFF, "company.view", Scope.REGION),
        Rule(R.SUPERVISOR, "company.view", Scope.REGION),
        Rule(R.ADMIN, "company.view", Scope.ANY),
        Rule(R.ADMIN, "company.create", Scope.ANY),
        Rule(R.ADMIN, "company.edit", Scope.ANY),
        Rule(R.STAFF, "company.create", Scope.REGION),
        # Accounts.
        Rule(R.ADMIN, "user.create", Scope.ANY),
        Rule(R.ADMIN, "user.view", Scope.ANY),
        Rule(R.ADMIN, "org.manage", Scope.ANY),
        Rule(R.ADMIN, "procedure.override", Scope.ANY),
        # The ledger is public: anyone may check proofs.
        Rule(None, "ledger.view", Scope.ANYONE),
    ]
    for role in Role:
        rows += [Rule(role, "user.view", Scope.SELF), Rule(role, "token.manage", Scope.SELF)]
    rows += _bidding_rules()
    rows += _evaluation_rules()
    rows += _collusion_rules()
    return tuple(rows)


# -- bidding (DESIGN §4) ----------------------------------------------------------------------
# Bid objects are Resource(kind="bid", state=<the tender's state>, company_id=<bidding company>,
# centre/region/organisations of the tender, user_id=<the asker's account if it holds an ACTIVE
# seat on the tender's evaluation committee, else None> — evaluation answers that question for
# bidding through Bidding.use_committee).  A custodian's share slot of a tender is
# Resource(kind="share", user_id=<the custodian named in the tender's remedy>), so SELF means
# "a slot that is mine".
AFTER_DEADLINE = frozenset(
    s.value for s in (T.CLOSED, T.OPENING, T.OPENED, T.EVALUATING, T.RECOMMENDED, T.AWARDED, T.FAILED)
)
HALL_STATES = frozenset({T.CLOSED.value, T.OPENING.value, T.OPENED.value, T.FAILED.value})
IN_HALL = frozenset({T.OPENING.value})
AFTER_OPENING = frozenset(
    s.value for s in (T.OPENED, T.EVALUATING, T.RECOMMENDED, T.AWARDED, T.FAILED, T.ARCHIVED)
)
# While its committee evaluates (and reviews objections during publicity): after opening only.
COMMITTEE_READING = frozenset({T.EVALUATING.value, T.RECOMMENDED.value})


def _bidding_rules() -> list[Rule]:
    rows = [
        Rule(R.BIDDER, "bidder_key.register", Scope.OWN_COMPANY),
        Rule(R.BIDDER, "bidder_key.view", Scope.OWN_COMPANY),
        Rule(R.BIDDER, "bidder_key.revoke", Scope.OWN_COMPANY),
        Rule(R.ADMIN, "bidder_key.revoke", Scope.ANY),
        Rule(R.STAFF, "bidder_key.view", Scope.REGION),
        Rule(R.SUPERVISOR, "bidder_key.view", Scope.REGION),
        Rule(R.CUSTODIAN, "custodian_key.register", Scope.SELF),
        # The remedy (custodians, k) is part of the notice: set while drafting, public afterwards.
        Rule(None, "tender.sealing.view", Scope.ANYONE, PUBLIC_TENDER_STATES),
        Rule(R.BIDDER, "bid.submit", Scope.REGISTERED, OPEN_FOR_BIDDING),
        Rule(R.BIDDER, "bid.view", Scope.OWN_COMPANY),
        Rule(R.BIDDER, "bid.withdraw", Scope.OWN_COMPANY, OPEN_FOR_BIDDING),
        Rule(R.BIDDER, "bid.decrypt", Scope.OWN_COMPANY, IN_HALL),
        Rule(R.BIDDER, "record.respond", Scope.OWN_COMPANY, IN_HALL),
        # Bid content after opening: the bidder itself, and
        Rule(R.BIDDER, "bid.content.view", Scope.OWN_COMPANY, AFTER_OPENING),
        # >>> evaluation committee: the committee of THAT tender (SELF = an active seat on it,
        # see the bid object above), decrypted on the fly, only while it evaluates.  No other
        # expert, no tenderer/agent, no other bidder, no staff: they are answered 404.
        Rule(R.EXPERT, "bid.content.view", Scope.SELF, COMMITTEE_READING),
        Rule(R.TENDERER, "bid.content.view", Scope.SELF, COMMITTEE_READING),  # 招标人代表 seated
        # <<< evaluation committee
        Rule(R.BIDDER, "hall.view", Scope.REGISTERED, HALL_STATES),
        Rule(R.CUSTODIAN, "hall.view", Scope.SELF, HALL_STATES),
        Rule(R.CUSTODIAN, "share.release", Scope.SELF, IN_HALL),
        Rule(R.SUPERVISOR, "hall.view", Scope.REGION, HALL_STATES),
        Rule(R.SUPERVISOR, "bid.list", Scope.REGION, AFTER_DEADLINE),
        Rule(R.STAFF, "hall.view", Scope.OWN_CENTRE, HALL_STATES),
        Rule(R.STAFF, "hall.run", Scope.OWN_CENTRE, IN_HALL),
        Rule(R.STAFF, "bid.list", Scope.OWN_CENTRE, AFTER_DEADLINE),
        # The access log of bid content (who read which decrypted bid, when): oversight only.
        Rule(R.STAFF, "bid.reads.view", Scope.OWN_CENTRE, AFTER_OPENING),
        Rule(R.SUPERVISOR, "bid.reads.view", Scope.REGION, AFTER_OPENING),
        # The credit blacklist spans the region.
        Rule(R.ADMIN, "credit.import", Scope.ANY),
        Rule(R.STAFF, "credit.import", Scope.REGION),
        Rule(R.ADMIN, "credit.view", Scope.ANY),
        Rule(R.STAFF, "credit.view", Scope.REGION),
        Rule(R.SUPERVISOR, "credit.view", Scope.REGION),
    ]
    for role, scope in ((R.TENDERER, Scope.OWN_ORG), (R.AGENT, Scope.OWN_ORG), (R.STAFF, Scope.OWN_CENTRE)):
        rows += [
            Rule(role, "tender.remedy.edit", scope, DRAFT),
            Rule(role, "tender.sealing.view", scope),
        ]
    for role in (R.TENDERER, R.AGENT):
        rows.append(Rule(role, "hall.view", Scope.OWN_ORG, HALL_STATES))
    return rows


# -- evaluation (DESIGN §6) -------------------------------------------------------------------
# Objects, all built by evaluation.access:
# - Resource(kind="expert", region_id, user_id=<the expert's own account>): registry entries;
# - Resource(kind="seat", state=<seat status>, user_id=<the drawn expert's account>): one seat;
# - Resource(kind="evaluation", state=<tender state>, centre/region/organisations of the tender,
#   registered_companies, user_id=<the asker's account if the asker holds an ACTIVE seat on this
#   tender's committee, else None>).  An active seat means accepted *and* declared free of
#   conflicts, so SELF here reads "a committee I sit on, after my 回避声明".
# Expert identities (names, registry ids, the draw record, the committee list) are granted to
# bidders, tenderers, agents and the public only once the result is published (awarded), so
# nothing before that can leak them: tests/evaluation/test_access_matrix.py proves it.
RESULT_PUBLISHED = frozenset({T.AWARDED.value, T.ARCHIVED.value})
BEFORE_EVALUATION = frozenset(s.value for s in (T.PUBLISHED, T.CLOSED, T.OPENING, T.OPENED))
EVALUATING = frozenset({T.EVALUATING.value})
RECOMMENDED = frozenset({T.RECOMMENDED.value})
CANDIDATES_PUBLIC = frozenset(s.value for s in (T.RECOMMENDED, T.AWARDED, T.ARCHIVED))
COMMITTEE_STATES = frozenset(s.value for s in (T.OPENED, T.EVALUATING, T.RECOMMENDED, T.AWARDED, T.ARCHIVED))


def _evaluation_rules() -> list[Rule]:
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


# -- collusion (DESIGN §7) --------------------------------------------------------------------
# Objects, all built by collusion.access:
# - Resource(kind="collusion_alert", state=<alert status>, region_id, centre_id of the tender's
#   centre): alerts exist only for centre staff and supervisors; every other role (bidders above
#   all) is answered 404, so an open alert never leaks;
# - Resource(kind="collusion_graph", region_id): the region's evidence graph;
# - Resource(kind="collusion_finding", state=<tender state>, centre/region of the tender,
#   user_id=<the asker's account if it holds an active seat on the tender's committee>):
#   confirmed findings only (never open alerts), for the committee's qualification review;
# - Resource(kind="company", ...): a bidder's collusion record (its confirmed findings).
ALERT_OPEN = frozenset({"new", "under_review"})
ALERT_REVIEW = frozenset({"under_review"})
ALERT_ESCALATED = frozenset({"escalated"})
ALERT_UNDECIDED = frozenset({"new", "under_review", "escalated"})


def _collusion_rules() -> list[Rule]:
    return [
        Rule(R.STAFF, "collusion.alert.view", Scope.OWN_CENTRE),
        Rule(R.SUPERVISOR, "collusion.alert.view", Scope.REGION),
        Rule(R.STAFF, "collusion.alert.assign", Scope.OWN_CENTRE, ALERT_OPEN),
        Rule(R.STAFF, "collusion.alert.review", Scope.OWN_CENTRE, frozenset({"new"})),
        Rule(R.STAFF, "collusion.alert.comment", Scope.OWN_CENTRE, ALERT_UNDECIDED),
        Rule(R.SUPERVISOR, "collusion.alert.comment", Scope.REGION, ALERT_UNDECIDED),
        Rule(R.STAFF, "collusion.alert.confirm", Scope.OWN_CENTRE, ALERT_REVIEW),
        Rule(R.STAFF, "collusion.alert.dismiss", Scope.OWN_CENTRE, ALERT_REVIEW),
        Rule(R.STAFF, "collusion.alert.escalate", Scope.OWN_CENTRE, ALERT_OPEN),
        # An escalated alert is the supervisor's to decide.
        Rule(R.SUPERVISOR, "collusion.alert.confirm", Scope.REGION, ALERT_ESCALATED),
        Rule(R.SUPERVISOR, "collusion.alert.dismiss", Scope.REGION, ALERT_ESCALATED),
        Rule(R.STAFF, "collusion.run", Scope.OWN_CENTRE, AFTER_OPENING),
        Rule(R.STAFF, "collusion.graph.view", Scope.REGION),
        Rule(R.SUPERVISOR, "collusion.graph.view", Scope.REGION),
        Rule(R.STAFF, "collusion.finding.view", Scope.OWN_CENTRE),
        Rule(R.SUPERVISOR, "collusion.finding.view", Scope.REGION),
        Rule(R.EXPERT, "collusion.finding.view", Scope.SELF, COMMITTEE_STATES),
        Rule(R.STAFF, "collusion.record.view", Scope.REGION),
        Rule(R.SUPERVISOR, "collusion.record.view", Scope.REGION),
    ]


POLICY: tuple[Rule, ...] = _rules()
ACTIONS: frozenset[str] = frozenset(r.action for r in POLICY)


def _in_scope(rule: Rule, who: Subject, obj: Resource) -> bool:
    match rule.scope:
        case Scope.ANYONE:
            return True
        case Scope.PUBLISHED:
            return obj.published
        case Scope.ANY:
            return who.role is not None
        case Scope.SELF:
            return who.user_id is not None and who.user_id == obj.user_id
        case Scope.OWN_COMPANY:
            return who.company_id is not None and who.company_id == obj.company_id
        case Scope.OWN_ORG:
            return who.organisation_id is not None and who.organisation_id in obj.organisation_ids
        case Scope.OWN_CENTRE:
            return who.centre_id is not None and who.centre_id == obj.centre_id
        case Scope.REGION:
            return who.region_id is not None and who.region_id == obj.region_id
        case Scope.REGISTERED:
            return who.company_id is not None and who.company_id in obj.registered_companies
    return False  # pragma: no cover - exhaustive above


def permits(who: Subject, action: str, obj: Resource) -> bool:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}: add it to the policy table")
    for rule in POLICY:
        if rule.action != action:
            continue
        if rule.role is not None and rule.role != who.role:
            continue
        if rule.states is not None and obj.state not in rule.states:
            continue
        if _in_scope(rule, who, obj):
            return True
    return False


def enforce(who: Subject, action: str, obj: Resource, *, hide: str | None = None) -> None:
    """Raise unless ``who`` may do ``action`` on ``obj``.

    With ``hide`` (e.g. ``"tender.view"``) a subject that may not even see the object gets 404,
    so the object's existence does not leak; otherwise 403.
    """
    if permits(who, action, obj):
        return
    if hide is not None and not permits(who, hide, obj):
        raise NotFound("error.not_found", kind=obj.kind)
    raise Forbidden("error.forbidden_action", action=action)


def roles_allowed(action: str) -> Iterable[Role | None]:
    return {r.role for r in POLICY if r.action == action}
