"""The one policy table: role × action × object state × ownership → allowed.

Every handler asks :func:`permits` (through :func:`enforce`) before it acts, with the object it
acts on.  Anything not granted by a row is denied.  Where an object's existence must not leak,
callers check ``<kind>.view`` first and answer 404 when it is denied.

The kernel's rows are here; each domain package contributes its own (``<domain>/policy.py``,
offered by its plugin's ``policy_rules``), and :func:`policy` assembles the one table from all of
them on first use.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

from tenderhall.auth.roles import Role
from tenderhall.errors import Forbidden, Label, NotFound
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
    # How people name the object (a tender's reference number): refusals say what to do next.
    label: str | None = None
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
# Tender phases more than one domain's rows name.
AFTER_OPENING = frozenset(
    s.value for s in (T.OPENED, T.EVALUATING, T.RECOMMENDED, T.AWARDED, T.FAILED, T.ARCHIVED)
)
COMMITTEE_STATES = frozenset(s.value for s in (T.OPENED, T.EVALUATING, T.RECOMMENDED, T.AWARDED, T.ARCHIVED))
R = Role


def kernel_rules() -> list[Rule]:
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
        # The "my work" dashboard lists a centre's tenders to its own staff only.
        Rule(R.STAFF, "tender.dashboard", Scope.OWN_CENTRE),
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
    return rows


@dataclass(frozen=True)
class PolicyTable:
    rules: tuple[Rule, ...]
    actions: frozenset[str]
    by_action: dict[str, tuple[Rule, ...]]

    @classmethod
    def of(cls, rules: Sequence[Rule]) -> PolicyTable:
        by_action: dict[str, list[Rule]] = {}
        for rule in rules:
            by_action.setdefault(rule.action, []).append(rule)
        return cls(tuple(rules), frozenset(by_action), {a: tuple(rs) for a, rs in by_action.items()})


@cache
def policy() -> PolicyTable:
    """The kernel's rows and every domain package's, assembled once per process."""
    from tenderhall.compose import domain_policy_rules

    return PolicyTable.of([*kernel_rules(), *domain_policy_rules()])


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
    rules = policy().by_action.get(action)
    if rules is None:
        raise ValueError(f"unknown action {action!r}: add it to the policy table")
    for rule in rules:
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
    raise refusal(who, action, obj)


# Refusals that name the action, where a state alone stands in the way.
STATE_REFUSALS = {"tender.register": "error.registration_closed", "bid.submit": "error.bidding_closed"}


def refusal(who: Subject, action: str, obj: Resource) -> Forbidden:
    """Why ``who`` may not do ``action`` on ``obj``, saying what to do next where a row of the
    table tells: "register for SH-2026-0009 first", or that the tender's state no longer allows
    it.  Only about a tender the caller may see (``label`` set, ``tender.view`` permitted): a
    refusal must not tell what a hidden tender's state is."""
    if obj.label is None or not permits(who, "tender.view", obj):
        return Forbidden("error.forbidden_action", action=action)
    rows = [r for r in policy().by_action.get(action, ()) if r.role is None or r.role == who.role]
    in_state = [r for r in rows if r.states is None or obj.state in r.states]
    state = Label(f"state.{obj.state}")
    if rows and not in_state:
        return Forbidden(STATE_REFUSALS.get(action, "error.not_in_state"), reference=obj.label, state=state)
    registered = who.company_id is not None and who.company_id in obj.registered_companies
    if not registered and any(r.scope is Scope.REGISTERED for r in in_state):
        return Forbidden("error.register_first", reference=obj.label)
    return Forbidden("error.forbidden_action", action=action)


def roles_allowed(action: str) -> Iterable[Role | None]:
    return {r.role for r in policy().by_action.get(action, ())}
