"""The whole policy table, cell by cell, against an independent reading of DESIGN §1.

``SPEC`` below is written from the design (who does what) and issue 2, not from the table: for each
action it lists who may do it, in which tender states, and with which relation to the object.
The test walks every role (and anonymous visitors) × every action × every tender state (and no
state) × every combination of ownership relations, and asks :func:`permits` about each cell.
A cell the spec does not grant must be denied; a cell it grants must be allowed.
"""

from __future__ import annotations

import ast
import functools
import itertools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tenderhall.auth.policy import Resource, Subject, enforce, permits, policy, roles_allowed
from tenderhall.auth.roles import Role
from tenderhall.errors import Forbidden, NotFound
from tenderhall.tenders.lifecycle import TenderState

# The one table as the platform runs it: the kernel's rows and every domain package's.
POLICY = policy().rules
ACTIONS = policy().actions

# -- the specification ------------------------------------------------------------------------------

ALL_STATES: frozenset[str | None] = frozenset({*(s.value for s in TenderState), None})
#: Published notices are public in every state after the draft (DESIGN §3); a draft is not.
PUBLIC = frozenset(s.value for s in TenderState if s is not TenderState.DRAFT)
DRAFT_ONLY = frozenset({TenderState.DRAFT.value})
OPEN_FOR_BIDDING = frozenset({TenderState.PUBLISHED.value})
#: ``terminate`` leaves every state before the award (DESIGN §3: a side exit).
BEFORE_AWARD = frozenset(
    s.value
    for s in (
        TenderState.DRAFT,
        TenderState.PUBLISHED,
        TenderState.CLOSED,
        TenderState.OPENING,
        TenderState.OPENED,
        TenderState.EVALUATING,
        TenderState.RECOMMENDED,
    )
)

ANONYMOUS = None
EVERY_ROLE: frozenset[Role | None] = frozenset({*Role, ANONYMOUS})
SIGNED_IN: frozenset[Role | None] = frozenset(Role)
B, T, A, S, E, V, C, ADM = (
    Role.BIDDER,
    Role.TENDERER,
    Role.AGENT,
    Role.STAFF,
    Role.EXPERT,
    Role.SUPERVISOR,
    Role.CUSTODIAN,
    Role.ADMIN,
)
#: The people who run a tender: its tenderer or agency, and its centre's staff.
RUNNERS = ((T, "own_org"), (A, "own_org"), (S, "own_centre"))


@dataclass(frozen=True)
class Grant:
    """``roles`` may do the action on objects in ``states`` when ``relation`` holds.

    Relations: ``anyone`` (no relation needed), ``self`` (the user's own account), ``own_company``,
    ``own_org`` (the tender's tenderer or agency), ``own_centre``, ``region`` (same region),
    ``registered`` (the bidder's company registered for the tender).
    """

    roles: frozenset[Role | None]
    relation: str
    states: frozenset[str | None] | None = None  # None: in any state, or with no state at all

    def covers(self, state: str | None) -> bool:
        return self.states is None or state in self.states


def g(
    roles: Role | frozenset[Role | None] | None, relation: str, states: frozenset[str | None] | None = None
) -> Grant:
    as_set = roles if isinstance(roles, frozenset) else frozenset({roles})
    return Grant(as_set, relation, states)


SPEC: dict[str, list[Grant]] = {
    # Notices: everyone once published; drafts only to the tender's own organisation and centre;
    # supervisors watch everything in their region read-only.
    "tender.view": [
        g(EVERY_ROLE, "anyone", PUBLIC),
        *(g(role, rel) for role, rel in RUNNERS),
        g(V, "region"),
    ],
    "tender.create": [g(T, "anyone"), g(A, "anyone"), g(S, "anyone")],
    "tender.edit": [g(role, rel, DRAFT_ONLY) for role, rel in RUNNERS],
    "tender.publish": [g(role, rel, DRAFT_ONLY) for role, rel in RUNNERS],
    "tender.amend": [g(role, rel, OPEN_FOR_BIDDING) for role, rel in RUNNERS],
    "tender.terminate": [g(role, rel, BEFORE_AWARD) for role, rel in RUNNERS],
    # 报名: any bidder while the tender is open; afterwards it sees only its own registration.
    "tender.register": [g(B, "anyone", OPEN_FOR_BIDDING)],
    "tender.registration.view": [
        g(B, "registered"),
        *(g(role, rel) for role, rel in RUNNERS),
        g(V, "region"),
    ],
    # Clarifications: registered bidders ask while open; runners answer while open.
    "clarification.ask": [g(B, "registered", OPEN_FOR_BIDDING)],
    "clarification.answer": [g(role, rel, OPEN_FOR_BIDDING) for role, rel in RUNNERS],
    "clarification.view": [
        g(B, "registered"),
        *(g(role, rel) for role, rel in RUNNERS),
        g(V, "region"),
    ],
    "tender.events.view": [g(S, "own_centre"), g(V, "region")],
    # Companies: a bidder only its own; staff and supervisors of the region read; admins manage.
    "company.view": [g(B, "own_company"), g(S, "region"), g(V, "region"), g(ADM, "anyone")],
    "company.edit": [g(B, "own_company"), g(ADM, "anyone")],
    "company.create": [g(S, "region"), g(ADM, "anyone")],
    # Accounts: admins create and read; everyone reads its own account and manages its tokens.
    "user.create": [g(ADM, "anyone")],
    "user.view": [g(ADM, "anyone"), g(SIGNED_IN, "self")],
    "token.manage": [g(SIGNED_IN, "self")],
    "org.manage": [g(ADM, "anyone")],
    "procedure.override": [g(ADM, "anyone")],
    # The ledger is public.
    "ledger.view": [g(EVERY_ROLE, "anyone")],
}

# Roles that only read in the kernel (DESIGN §1: supervisors watch read-only; experts and
# custodians act only in the domain packages' stages).
READ_ONLY_ROLES = (E, C, V)
READS = re.compile(r".*\.(view|list)$")

# -- the walk ------------------------------------------------------------------------------------------

ME = uuid.UUID(int=1)
OTHER = uuid.UUID(int=2)
RELATIONS = ("company", "org", "centre", "region", "registered", "user")
#: Object states to walk: every tender state, no state, and any other object state a row names
#: (domain rows, e.g. an expert's seat).
WALK_STATES: tuple[str | None, ...] = tuple(
    sorted(
        {*ALL_STATES, *(state for rule in POLICY if rule.states for state in rule.states)},
        key=lambda s: s or "",
    )
)
ROLES: list[Role | None] = [None, *Role]
#: Actions of the domain packages (bidding, evaluation, collusion) that the kernel spec above does
#: not cover; they are walked against the invariants below.  Their owners extend ``SPEC``.
UNSPECIFIED = sorted(ACTIONS - set(SPEC))


@dataclass(frozen=True)
class Cell:
    """One combination of relations between the subject and the object."""

    company: bool  # the object belongs to the subject's company
    org: bool  # the subject's organisation is the tender's tenderer or agency
    centre: bool  # the tender is run by the subject's centre
    region: bool  # the object is in the subject's region
    registered: bool  # the subject's company registered for the tender
    user: bool  # the object is the subject's own account
    state: str | None

    def holds(self, relation: str) -> bool:
        match relation:
            case "anyone":
                return True
            case "self":
                return self.user
            case "own_company":
                return self.company
            case "own_org":
                return self.org
            case "own_centre":
                return self.centre
            case "region":
                return self.region
            case "registered":
                return self.registered
        raise AssertionError(f"unknown relation {relation}")


def cells(states: tuple[str | None, ...] = WALK_STATES) -> Iterator[Cell]:
    for flags in itertools.product((True, False), repeat=len(RELATIONS)):
        for state in states:
            yield Cell(*flags, state=state)


def states_for(action: str) -> tuple[str | None, ...]:
    """Every state for the specified actions; for the others, the states their rows name plus a
    few they do not (the answer cannot differ between two states no row of the action names)."""
    if action in SPEC:
        return WALK_STATES
    named = {state for rule in POLICY if rule.action == action and rule.states for state in rule.states}
    return tuple(sorted({None, "draft", "published", "archived", *named}, key=lambda s: s or ""))


def subject(role: Role | None, *, bare: bool = False) -> Subject:
    """A subject of ``role`` that carries every kind of affiliation (so only the role limits it)."""
    if role is None or bare:
        return Subject(role=role)
    return Subject(role=role, user_id=ME, region_id=ME, centre_id=ME, organisation_id=ME, company_id=ME)


def resource(cell: Cell) -> Resource:
    def pick(flag: bool) -> uuid.UUID:
        return ME if flag else OTHER

    return Resource(
        kind="object",
        state=cell.state,
        region_id=pick(cell.region),
        centre_id=pick(cell.centre),
        organisation_ids=frozenset({pick(cell.org), uuid.UUID(int=3)}),
        company_id=pick(cell.company),
        user_id=pick(cell.user),
        registered_companies=frozenset({pick(cell.registered), uuid.UUID(int=4)}),
    )


@functools.cache
def all_cells(action: str) -> tuple[Cell, ...]:
    return tuple(cells(states_for(action)))


@functools.cache
def granted(role: Role | None, action: str) -> frozenset[Cell]:
    """The cells :func:`permits` allows a fully affiliated subject of ``role`` (asked once each)."""
    who = subject(role)
    return frozenset(cell for cell in all_cells(action) if permits(who, action, resource(cell)))


def expected(role: Role | None, action: str, cell: Cell) -> bool:
    return any(
        role in grant.roles and grant.covers(cell.state) and cell.holds(grant.relation)
        for grant in SPEC[action]
    )


def role_id(role: Role | None) -> str:
    return role.value if role else "anonymous"


def test_every_specified_action_is_in_the_table() -> None:
    assert set(SPEC) <= ACTIONS, sorted(set(SPEC) - ACTIONS)


@pytest.mark.parametrize("action", sorted(SPEC))
@pytest.mark.parametrize("role", ROLES, ids=role_id)
def test_every_cell(role: Role | None, action: str) -> None:
    wrong: list[str] = []
    table = granted(role, action)
    for cell in all_cells(action):
        want = expected(role, action, cell)
        got = cell in table
        if got != want:
            verdict = f"{'allowed' if got else 'denied'} but must be {'allowed' if want else 'denied'}"
            wrong.append(f"{verdict}: {cell}")
    assert not wrong, f"{len(wrong)} wrong cells for {role} {action}:\n" + "\n".join(wrong[:20])
    # The walk really reached the allowed side wherever the spec grants anything.
    if any(role in grant.roles for grant in SPEC[action]):
        assert table


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_missing_affiliation_is_a_foreign_one(action: str) -> None:
    """A subject without a company/centre/organisation/region/user id, asking about an object that
    lacks them too, gets exactly what a stranger (every relation foreign) gets: ``None == None``
    must never grant anything.  Holds for every action, the domain packages' included."""
    for role in ROLES:
        bare = subject(role, bare=True)
        stranger = subject(role)
        for state in states_for(action):
            foreign = resource(Cell(False, False, False, False, False, False, state=state))
            want = permits(stranger, action, foreign)
            assert permits(bare, action, Resource(kind="object", state=state)) is want, (role, state)
            assert permits(bare, action, foreign) is want, (role, state)


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_closer_relation_never_loses_a_right(action: str) -> None:
    """The table only grants: owning, registering or sharing a centre/region never takes away
    what the same role may do as a stranger (for every action, the domain packages' included)."""
    for role in ROLES:
        table = granted(role, action)
        for cell in table:
            for relation in RELATIONS:
                closer = Cell(**{**cell.__dict__, relation: True})
                assert closer in table, (role, cell, relation)


@pytest.mark.parametrize("action", UNSPECIFIED)
def test_anonymous_visitors_at_most_read(action: str) -> None:
    """Domain actions not yet in the spec: an anonymous visitor may never act, only read."""
    if READS.match(action):
        return
    assert not granted(None, action)


def test_read_only_roles_never_change_anything_in_the_kernel() -> None:
    for role in READ_ONLY_ROLES:
        for action in {a for a in SPEC if not READS.match(a)} - {"token.manage"}:
            assert not granted(role, action), (role, action)


PUBLIC_READS = {"tender.view"}


def test_anonymous_sees_published_notices_and_the_ledger_only() -> None:
    for action in SPEC:
        for cell in all_cells(action):
            got = cell in granted(None, action)
            want = (action in PUBLIC_READS and cell.state in PUBLIC) or action == "ledger.view"
            assert got is want, (action, cell)


def test_unknown_actions_raise() -> None:
    for action in ("tender.delete", "", "TENDER.VIEW", "tender.view ", "company.*", "bid.open.now"):
        with pytest.raises(ValueError, match="unknown action"):
            permits(subject(Role.ADMIN), action, Resource(kind="tender"))
        with pytest.raises(ValueError, match="unknown action"):
            enforce(subject(Role.ADMIN), action, Resource(kind="tender"))


def test_enforce_hides_what_may_not_be_seen() -> None:
    bidder = subject(Role.BIDDER)
    draft_elsewhere = Resource(kind="tender", state="draft", organisation_ids=frozenset({OTHER}))
    published = Resource(kind="tender", state="published")
    with pytest.raises(NotFound):
        enforce(bidder, "tender.edit", draft_elsewhere, hide="tender.view")
    with pytest.raises(Forbidden):
        enforce(bidder, "tender.edit", published, hide="tender.view")
    with pytest.raises(Forbidden):
        enforce(bidder, "tender.edit", draft_elsewhere)
    enforce(bidder, "tender.register", published, hide="tender.view")
    other_company = Resource(kind="company", company_id=OTHER, region_id=ME)
    with pytest.raises(NotFound):
        enforce(bidder, "company.edit", other_company, hide="company.view")


def test_roles_allowed_matches_the_spec() -> None:
    for action, grants in SPEC.items():
        spec_roles = set().union(*(grant.roles for grant in grants))
        table_roles = set(roles_allowed(action))
        if None in table_roles:  # a row for everybody
            assert spec_roles == set(EVERY_ROLE), action
        else:
            assert table_roles == spec_roles, action


def test_every_row_is_well_formed() -> None:
    seen = set()
    for rule in POLICY:
        assert rule.role is None or isinstance(rule.role, Role)
        assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", rule.action), rule.action
        assert rule.states is None or rule.states, f"{rule} can never match"
        if rule.action in SPEC and rule.states is not None:
            assert rule.states <= {s.value for s in TenderState}, rule
        assert rule not in seen, f"duplicate row {rule}"
        seen.add(rule)


# -- every action the code asks about is in the table ---------------------------------------------

ROOT = Path(__file__).resolve().parents[3]
CODE_DIRS = ("src/tenderhall", "bidding", "evaluation", "collusion")
ASKING_CALLS = {"enforce", "permits", "load", "can", "get", "roles_allowed", "require", "authorize"}
ACTION_ARGS = {"action", "hide"}
LOADERS = {"get", "load"}
DOTTED = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def actions_in_code() -> dict[str, set[str]]:
    """Dotted string literals the code passes to the policy (directly or through a loader).

    Sources: arguments to ``enforce``/``permits``/``load``/``get``/… calls, ``action=``/``hide=``
    keywords and parameter defaults, and literals in modules that use the policy when they sit in a
    collection that is iterated into or mapped onto ``permits`` (e.g. ``ACTION_OF``).
    """
    found: dict[str, set[str]] = {}

    def note(value: object, where: str) -> None:
        if isinstance(value, str) and DOTTED.match(value):
            found.setdefault(value, set()).add(where)

    for folder in CODE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text)
            where = str(path.relative_to(ROOT))
            uses_policy = "tenderhall.auth.policy" in text
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and _name(node.func) in ASKING_CALLS:
                    # ``x.get(key, default)`` is everywhere; loaders take the action after (db, who, id).
                    first = 2 if _name(node.func) in LOADERS else 0
                    for arg in node.args[first:]:
                        if isinstance(arg, ast.Constant):
                            note(arg.value, where)
                    for kw in node.keywords:
                        if kw.arg in ACTION_ARGS and isinstance(kw.value, ast.Constant):
                            note(kw.value.value, where)
                elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    args = node.args
                    positional = [*args.posonlyargs, *args.args]
                    for arg, default in zip(
                        positional[len(positional) - len(args.defaults) :], args.defaults, strict=True
                    ):
                        if arg.arg in ACTION_ARGS and isinstance(default, ast.Constant):
                            note(default.value, where)
                    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
                        if arg.arg in ACTION_ARGS and isinstance(kw_default, ast.Constant):
                            note(kw_default.value, where)
                elif (
                    uses_policy
                    and isinstance(node, ast.For)
                    and isinstance(node.iter, ast.Tuple | ast.List | ast.Set)
                ):
                    for elt in node.iter.elts:
                        if isinstance(elt, ast.Constant):
                            note(elt.value, where)
                elif (
                    uses_policy
                    and isinstance(node, ast.Assign | ast.AnnAssign)
                    and isinstance(node.value, ast.Dict)
                ):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    if any(_name(t) in {"ACTION_OF", "ACTIONS_OF", "PERMISSIONS"} for t in targets):
                        for value in node.value.values:
                            if isinstance(value, ast.Constant):
                                note(value.value, where)
    return found


def test_every_action_the_code_uses_is_in_the_table() -> None:
    found = actions_in_code()
    # The scan is not vacuous: it finds the actions the kernel is known to ask about.
    assert {
        "tender.view",
        "tender.edit",
        "tender.publish",
        "tender.amend",
        "tender.terminate",
        "tender.register",
        "tender.registration.view",
        "clarification.ask",
        "clarification.answer",
        "clarification.view",
        "company.view",
        "company.edit",
        "company.create",
        "user.create",
        "user.view",
        "token.manage",
    } <= set(found)
    missing = {action: sorted(where) for action, where in found.items() if action not in ACTIONS}
    assert not missing, f"actions used in code but missing from the policy table: {missing}"
