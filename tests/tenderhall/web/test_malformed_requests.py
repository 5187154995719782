"""No malformed request ever gets a 500, and every error is RFC 9457 problem details.

The operations come from the app's own OpenAPI document, so every endpoint (the domain packages'
included) is covered as soon as it exists.  Each operation gets a battery of malformed requests —
bad path parameters, bad query parameters, garbage bodies, wrong content types, and a valid body
with one field replaced by a wrong type or a hostile value — from an admin, a staff member, a
tenderer and a bidder.  Part of the bodies come from ``hypothesis`` (bounded and derandomised).
"""

from __future__ import annotations

import functools
import json
import random
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tenderhall.bounds import MONEY_PATTERN, SIGNED_MONEY_PATTERN
from tenderhall.clock import FixedClock
from tenderhall.services import Services
from tenderhall.tenders.service import TenderDraft

PROBLEM = "application/problem+json"
TIME_BOUND = 3.0  # seconds per request; the bond of 1E+400000 once took 21
ACTORS = ("admin", "staff", "tenderer", "bidder")
METHODS = ("get", "post", "put", "patch", "delete")
RUBRIC = {
    "price_method": "lowest_price",
    "items": [
        {"code": "T1", "name": "技术", "kind": "technical", "max_points": 60},
        {"code": "P1", "name": "价格", "kind": "price", "max_points": 40},
    ],
}
NIL = "00000000-0000-0000-0000-000000000000"
MAX_UUID = "ffffffff-ffff-ffff-ffff-ffffffffffff"

# -- hostile values ----------------------------------------------------------------------------------

BAD_PATH = [
    "not-a-uuid",
    "%FF%FE%FD",
    NIL,
    MAX_UUID,
    "x" * 3000,
    "-1",
    "99999999999999999999999",
    "%00",
    "1.5",
]
BAD_QUERY = [
    "-1",
    "99999999999999999999999",
    "-99999999999999999999999",
    "abc",
    "",
    "1e3",
    "%00",
    "%FF%FE",
    "x" * 5000,
]
HUGE = 10**30
WRONG_TYPE: dict[str, list[Any]] = {
    "string": [12345, {"x": 1}],
    "integer": ["1", 1.5],
    "number": ["1", None],
    "boolean": ["true", 1],
    "array": ["x", [None, {"deep": [[[]]]}]],
    "object": ["x", [1]],
}
HOSTILE: dict[str, list[Any]] = {
    "string": [" ", "a\u0000b", "x" * 100_000, "\ud800", "🙂\u202e" * 300, "1E+400000"],
    "integer": [-1, 2**63, HUGE],
    "number": [-1e308, HUGE],
    "boolean": [],
    "array": [[None] * 1000],
    "object": [{"x" * 1000: "y"}],
    "uuid": ["not-a-uuid", NIL, MAX_UUID],
    "date-time": [
        "2026-04-01T00:00:00",  # timezone-naive
        "2026-13-45T25:61:00Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59-23:59",
        "2026-04-01",
    ],
}
GARBAGE_BODIES: list[tuple[bytes, str | None]] = [
    (b"", "application/json"),
    (b"null", "application/json"),
    (b"[]", "application/json"),
    (b"{", "application/json"),
    (b"\xff\xfe\xfd\x00", "application/json"),
    (b'{"title": "\xff\xfe"}', "application/json"),
    (b'{"a": 1e999}', "application/json"),
    (b"[" * 2000 + b"]" * 2000, "application/json"),
    (b'{"a": 1}', "text/plain"),
    (b"a=1&b=2", "application/x-www-form-urlencoded"),
    (b"--x\r\n\r\n", "multipart/form-data; boundary=x"),
    (b'{"a": 1}', None),
]


# -- the scene and the schema ----------------------------------------------------------------------


@dataclass
class Context:
    client: httpx.AsyncClient
    world: Any
    services: Services
    clock: FixedClock
    ids: dict[str, str]  # path/body parameter name → a real id
    spec: dict[str, Any]
    failures: list[str] = field(default_factory=list)
    sent: int = 0
    turn: int = 0

    def next_actor(self) -> str:
        self.turn += 1
        return ACTORS[self.turn % len(ACTORS)]

    async def send(
        self,
        actor: str,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        files: Any = None,
        label: str = "",
    ) -> httpx.Response:
        headers = dict(self.world.auth(actor))
        if content_type is not None:
            headers["content-type"] = content_type
        self.sent += 1
        started = time.monotonic()
        response = await self.client.request(method.upper(), url, content=body, files=files, headers=headers)
        where = f"{actor} {method.upper()} {url[:120]} {label}".strip()
        if (elapsed := time.monotonic() - started) > TIME_BOUND:
            self.failures.append(f"{where}: answered after {elapsed:.1f} s")
        self.check(response, where)
        return response

    def check(self, response: httpx.Response, where: str) -> None:
        status = response.status_code
        if status >= 500:
            self.failures.append(f"{where}: {status} {response.text[:300]}")
            return
        if status >= 400:
            ctype = response.headers.get("content-type", "")
            if not ctype.startswith(PROBLEM):
                self.failures.append(f"{where}: {status} without problem details ({ctype})")
                return
            body = response.json()
            if body.get("status") != status:
                self.failures.append(f"{where}: problem status {body.get('status')} != {status}")


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    if alternatives:
        chosen = next((a for a in alternatives if a.get("type") != "null"), alternatives[0])
        merged = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf")}
        return {**merged, **resolve(spec, chosen)}
    return schema


def kind_of(schema: dict[str, Any]) -> str:
    fmt = schema.get("format")
    if fmt in ("uuid", "date-time"):
        return str(fmt)
    kind = schema.get("type", "object")
    return str(kind[0] if isinstance(kind, list) else kind)


PATTERN_EXAMPLES = {MONEY_PATTERN: "100.00", SIGNED_MONEY_PATTERN: "-100.00", r"^[0-9 -]+$": "6222 0200 1234"}


def example(ctx: Context, schema: dict[str, Any], name: str = "", depth: int = 0) -> Any:
    """A plausible valid value for ``schema`` (real ids where the name says which)."""
    schema = resolve(ctx.spec, schema)
    kind = kind_of(schema)
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "uuid":
        return ctx.ids.get(name, str(uuid.UUID(int=99)))
    if kind == "date-time":
        return (ctx.clock.now() + timedelta(days=30)).isoformat()
    if kind == "string":
        if schema.get("pattern") in PATTERN_EXAMPLES:
            return PATTERN_EXAMPLES[schema["pattern"]]
        text = "示例" * max(1, int(schema.get("minLength", 1)))
        return text[: int(schema.get("maxLength", 50))] or "x"
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return float(schema.get("minimum", 1.0))
    if kind == "boolean":
        return False
    if kind == "array":
        return [] if depth > 2 else [example(ctx, schema.get("items", {}), name, depth + 1)]
    if kind == "object":
        props = schema.get("properties", {})
        return {key: example(ctx, sub, key, depth + 1) for key, sub in props.items()} if depth < 4 else {}
    return None


def base_body(ctx: Context, ref_name: str | None, schema: dict[str, Any]) -> Any:
    """Valid bodies for the kernel's schemas, so a malformed field is all that is wrong."""
    w = ctx.world
    deadline = (ctx.clock.now() + timedelta(days=30)).isoformat()
    known: dict[str, Any] = {
        "TenderIn": {
            "title": "新项目",
            "procedure": "open_tender",
            "estimate": "1000.00",
            "tenderer_id": str(w.tenderers[0].id),
            "centre_id": str(w.centres[0].id),
            "description": "说明",
            "category": "works",
            "rubric": RUBRIC,
        },
        "TenderPatch": {
            "version": 2,
            "title": "改",
            "estimate": "2000.00",
            "rubric": RUBRIC,
            "category": "goods",
        },
        "PublishIn": {"deadline": deadline},
        "AmendIn": {"summary": "修改", "affects_preparation": True, "new_deadline": deadline},
        "CompanyIn": {
            "name": "公司",
            "uscc": w.companies[0].uscc,
            "city": "上海",
            "legal_representative": "法人",
            "region_id": str(w.region.id),
            "persons": [
                {
                    "role": "shareholder",
                    "name": "股东",
                    "id_number": "310101199001011234",
                    "share_percent": 50,
                }
            ],
            "bank_accounts": [{"bank": "银行", "account_no": "6222 0200 1234", "account_name": "公司"}],
        },
        "UserIn": {
            "username": "fresh.user",
            "password": "correct-horse-battery",
            "role": "bidder",
            "display_name": "新",
            "company_id": str(w.companies[2].id),
        },
        # Not an actor of this test, so failed logins lock nobody who matters.
        "LoginIn": {"username": "custodian", "password": "wrong-password"},
        "TokenLoginIn": {"username": "custodian", "password": "wrong-password", "name": "cli", "days": 1},
    }
    if ref_name in known:
        return json.loads(json.dumps(known[ref_name]))
    return example(ctx, schema)


@dataclass
class Operation:
    method: str
    path: str
    params: list[dict[str, Any]]
    body_schema: dict[str, Any] | None
    body_ref: str | None
    media_type: str | None

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


def operations(spec: dict[str, Any]) -> Iterator[Operation]:
    for path, items in spec["paths"].items():
        for method, op in items.items():
            if method not in METHODS:
                continue
            content = op.get("requestBody", {}).get("content", {})
            media_type = next(iter(content), None)
            schema = content[media_type]["schema"] if media_type else None
            ref = schema.get("$ref", "").rsplit("/", 1)[-1] if schema else None
            yield Operation(method, path, op.get("parameters", []), schema, ref or None, media_type)


def fill(op: Operation, ctx: Context, override: dict[str, str] | None = None) -> str:
    values = dict(override or {})

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        param = next((p for p in op.params if p["name"] == name), {"schema": {}})
        kind = kind_of(resolve(ctx.spec, param.get("schema", {})))
        return ctx.ids.get(name, "1" if kind == "integer" else str(uuid.UUID(int=5)))

    return re.sub(r"\{([^}:]+)(?::[^}]+)?\}", value, op.path)


def mutations(ctx: Context, schema: dict[str, Any], base: Any) -> Iterator[tuple[str, Any]]:
    """The base body with one thing wrong: each field missing, of a wrong type, or hostile."""
    schema = resolve(ctx.spec, schema)
    yield "extra field", {**base, "unexpected_field": 1} if isinstance(base, dict) else base
    if not isinstance(base, dict):
        return
    for name, sub in schema.get("properties", {}).items():
        sub = resolve(ctx.spec, sub)
        kind = kind_of(sub)
        rest = {k: v for k, v in base.items() if k != name}
        if name in schema.get("required", ()):
            yield f"without {name}", rest
        wrong_kind = "string" if kind in ("uuid", "date-time") else kind
        for bad in WRONG_TYPE.get(wrong_kind, []):
            yield f"{name}={bad!r:.40}", {**rest, name: bad}
        for bad in HOSTILE.get(kind, []):
            yield f"{name}={bad!r:.40}", {**rest, name: bad}
        if kind == "object" and isinstance(base.get(name), dict) and sub.get("properties"):
            for label, inner in mutations(ctx, sub, base[name]):
                yield f"{name}.{label}", {**rest, name: inner}
        if (
            kind == "array"
            and isinstance(base.get(name), list)
            and base[name]
            and isinstance(base[name][0], dict)
        ):
            item_schema = resolve(ctx.spec, sub.get("items", {}))
            for label, item in mutations(ctx, item_schema, base[name][0]):
                yield f"{name}[0] {label}", {**rest, name: [item]}


def encode(body: Any) -> bytes:
    # ``ensure_ascii`` keeps lone surrogates as escapes, as a hostile client would send them.
    return json.dumps(body, ensure_ascii=True).encode()


# -- hypothesis: bounded, deterministic samples -------------------------------------------------------

JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["", NIL, "2026-04-01T00:00:00", "2026-04-01T00:00:00Z", "not-a-uuid", "\u0000"]),
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def sample(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """Draw ``count`` examples without any I/O (the requests are sent afterwards, asynchronously)."""
    drawn: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    return drawn[:count]


def body_strategy(ctx: Context, schema: dict[str, Any], base: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Bodies whose fields are each either the valid value or any JSON value."""
    schema = resolve(ctx.spec, schema)
    fields = {name: st.one_of(st.just(base.get(name)), JSON_VALUE) for name in schema.get("properties", {})}
    return st.fixed_dictionaries({}, optional=fields)


# -- fixtures --------------------------------------------------------------------------------------------


@pytest.fixture
async def ctx(client: httpx.AsyncClient, services: Services, world: Any, clock: FixedClock) -> Context:
    async with services.transaction() as db:
        draft = await services.tenders.create(
            db,
            world.who("tenderer"),
            TenderDraft(
                title="草稿",
                procedure="open_tender",
                estimate_fen=100_000,
                tenderer_id=world.tenderers[0].id,
                centre_id=world.centres[0].id,
                rubric=RUBRIC,
            ),
        )
    upload = await client.post(
        f"/api/v1/tenders/{draft.id}/documents",
        files={"data": ("doc.pdf", b"%PDF-1.4", "application/pdf")},
        headers=world.auth("tenderer"),
    )
    assert upload.status_code == 201, upload.text
    spare = await client.post("/api/v1/auth/tokens", json={"name": "spare"}, headers=world.auth("admin"))
    spec = (await client.get("/api/docs/openapi.json")).json()
    ids = {
        "tender_id": str(draft.id),
        "document_id": upload.json()["id"],
        "company_id": str(world.companies[0].id),
        "user_id": str(world.users["bidder"].id),
        "token_id": spare.json()["id"],
        "centre_id": str(world.centres[0].id),
        "region_id": str(world.region.id),
        "tenderer_id": str(world.tenderers[0].id),
        "agency_id": str(world.agency.id),
        "organisation_id": str(world.tenderers[0].id),
        "expert_id": str(world.users["expert"].id),
        "number": "1",
    }
    return Context(client, world, services, clock, ids, spec)


def report(ctx: Context) -> None:
    assert not ctx.failures, f"{len(ctx.failures)} bad answers of {ctx.sent}:\n" + "\n".join(
        ctx.failures[:50]
    )


# -- the batteries ------------------------------------------------------------------------------------------


async def test_openapi_lists_the_kernel_operations(ctx: Context) -> None:
    labels = {op.label for op in operations(ctx.spec)}
    assert {
        "GET /api/v1/tenders",
        "POST /api/v1/tenders",
        "PATCH /api/v1/tenders/{tender_id}",
        "POST /api/v1/tenders/{tender_id}/documents",
        "POST /api/v1/companies",
        "POST /api/v1/users",
        "POST /api/v1/auth/login",
        "GET /api/v1/ledger/entries",
    } <= labels
    assert ctx.spec["openapi"].startswith("3.1")


async def test_valid_bodies_from_every_actor(ctx: Context) -> None:
    """The baseline: the well-formed call of every operation, from each actor, never fails badly."""
    for op in operations(ctx.spec):
        for actor in ACTORS:
            url = fill(op, ctx)
            if op.media_type == "multipart/form-data":
                files = {"data": ("doc.pdf", b"%PDF-1.4 x", "application/pdf")}
                await ctx.send(actor, op.method, url, files=files)
            elif op.body_schema is not None:
                body = encode(base_body(ctx, op.body_ref, op.body_schema))
                await ctx.send(actor, op.method, url, body=body, content_type=op.media_type)
            else:
                await ctx.send(actor, op.method, url)
    report(ctx)


async def test_bad_path_and_query_parameters(ctx: Context) -> None:
    for op in operations(ctx.spec):
        path_params = [p for p in op.params if p.get("in") == "path"]
        for param in path_params:
            for bad in BAD_PATH:
                url = fill(op, ctx, {param["name"]: bad})
                await ctx.send(ctx.next_actor(), op.method, url, body=b"{}", content_type="application/json")
        query_params = [p for p in op.params if p.get("in") == "query"]
        for param in query_params:
            for bad in BAD_QUERY:
                url = f"{fill(op, ctx)}?{param['name']}={bad if '%' in bad else quote(bad)}"
                await ctx.send(ctx.next_actor(), op.method, url)
        if query_params:
            # Every parameter at once, repeated, and an unknown one.
            query = "&".join(f"{p['name']}=-1&{p['name']}=x" for p in query_params)
            await ctx.send(ctx.next_actor(), op.method, f"{fill(op, ctx)}?{query}&unknown=1")
    report(ctx)


async def test_garbage_bodies_and_wrong_content_types(ctx: Context) -> None:
    for op in operations(ctx.spec):
        if op.method == "get":
            continue
        url = fill(op, ctx)
        for body, content_type in GARBAGE_BODIES:
            await ctx.send(
                ctx.next_actor(), op.method, url, body=body, content_type=content_type, label=repr(body[:20])
            )
        if op.body_schema is not None and op.media_type == "application/json":
            base = encode(base_body(ctx, op.body_ref, op.body_schema))
            await ctx.send(ctx.next_actor(), op.method, url, body=base, content_type="multipart/form-data")
            await ctx.send(
                ctx.next_actor(), op.method, url, body=base + b"trailing", content_type="application/json"
            )
            # A body of two megabytes.
            huge = b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}'
            await ctx.send(ctx.next_actor(), op.method, url, body=huge, content_type="application/json")
    report(ctx)


async def test_one_bad_field_at_a_time(ctx: Context) -> None:
    for op in operations(ctx.spec):
        if op.body_schema is None or op.media_type != "application/json":
            continue
        url = fill(op, ctx)
        base = base_body(ctx, op.body_ref, op.body_schema)
        for label, body in mutations(ctx, op.body_schema, base):
            await ctx.send(
                ctx.next_actor(), op.method, url, body=encode(body), content_type=op.media_type, label=label
            )
    report(ctx)


async def test_hostile_values_reach_the_kernel_from_authorised_callers(ctx: Context) -> None:
    """Bodies that pass the edge's type checks and reach the domain code, sent by a caller the
    policy lets through (the tenderer owns the draft; admins manage companies and accounts)."""
    w = ctx.world
    draft = ctx.ids["tender_id"]
    big = str(10**21)
    cases: list[tuple[str, str, str, Any]] = [
        ("tenderer", "post", "/api/v1/tenders", {**base_body(ctx, "TenderIn", {}), "estimate": big}),
        ("tenderer", "post", "/api/v1/tenders", {**base_body(ctx, "TenderIn", {}), "estimate": "9" * 24}),
        ("tenderer", "post", "/api/v1/tenders", {**base_body(ctx, "TenderIn", {}), "title": "a\u0000b"}),
        ("tenderer", "post", "/api/v1/tenders", {**base_body(ctx, "TenderIn", {}), "description": "\u0000"}),
        ("tenderer", "post", "/api/v1/tenders", {**base_body(ctx, "TenderIn", {}), "rubric": {"items": "x"}}),
        (
            "tenderer",
            "post",
            "/api/v1/tenders",
            {
                **base_body(ctx, "TenderIn", {}),
                "rubric": {
                    "price_method": "lowest_price",
                    "items": [{"code": "a", "name": "b", "kind": "price", "max_points": "1e999999"}],
                },
            },
        ),
        (
            "tenderer",
            "post",
            "/api/v1/tenders",
            {
                **base_body(ctx, "TenderIn", {}),
                "rubric": {
                    "price_method": "lowest_price",
                    "items": [{"code": "a", "name": "b", "kind": "price", "max_points": "NaN"}],
                },
            },
        ),
        (
            "tenderer",
            "post",
            "/api/v1/tenders",
            {
                **base_body(ctx, "TenderIn", {}),
                "rubric": {
                    "price_method": "lowest_price",
                    "items": [{"code": ["a"], "name": {}, "kind": "price", "max_points": [1]}],
                },
            },
        ),
        ("tenderer", "patch", f"/api/v1/tenders/{draft}", {"version": 2, "estimate": big}),
        ("tenderer", "patch", f"/api/v1/tenders/{draft}", {"version": 2, "title": "\u0000"}),
        ("tenderer", "patch", f"/api/v1/tenders/{draft}", {"version": 2**63}),
        ("tenderer", "patch", f"/api/v1/tenders/{draft}", {"version": -(2**63) - 1}),
        ("tenderer", "patch", f"/api/v1/tenders/{draft}", {"version": 2, "category": "\u0000"}),
        ("tenderer", "post", f"/api/v1/tenders/{draft}/publish", {"deadline": "2026-04-01T00:00:00"}),
        ("tenderer", "post", f"/api/v1/tenders/{draft}/publish", {"deadline": "9999-12-31T23:59:59-23:59"}),
        ("tenderer", "post", f"/api/v1/tenders/{draft}/publish", {"deadline": "0001-01-01T00:00:00+23:59"}),
        ("tenderer", "post", f"/api/v1/tenders/{draft}/clarifications/{2**63}/answer", {"answer": "x"}),
        ("tenderer", "post", f"/api/v1/tenders/{draft}/clarifications/-1/answer", {"answer": "x"}),
        ("tenderer", "post", f"/api/v1/tenders/{draft}/terminate", {"reason": "\u0000"}),
        ("admin", "post", "/api/v1/companies", {**base_body(ctx, "CompanyIn", {}), "uscc": "\u0000" * 18}),
        (
            "admin",
            "post",
            "/api/v1/companies",
            {**base_body(ctx, "CompanyIn", {}), "uscc": "９１３１００００ＭＡ１ＦＬ８ＸＱ３Ｘ"},
        ),
        ("admin", "post", "/api/v1/companies", {**base_body(ctx, "CompanyIn", {}), "name": "a\u0000"}),
        ("admin", "post", "/api/v1/companies", {**base_body(ctx, "CompanyIn", {}), "region_id": NIL}),
        (
            "admin",
            "patch",
            f"/api/v1/companies/{w.companies[0].id}",
            {**base_body(ctx, "CompanyIn", {}), "persons": [{"role": "x" * 1000, "name": "n"}]},
        ),
        (
            "admin",
            "patch",
            f"/api/v1/companies/{w.companies[0].id}",
            {
                **base_body(ctx, "CompanyIn", {}),
                "persons": [{"role": "shareholder", "name": "\u0000", "share_percent": 1e-320}],
            },
        ),
        (
            "admin",
            "patch",
            f"/api/v1/companies/{w.companies[0].id}",
            {
                **base_body(ctx, "CompanyIn", {}),
                "persons": [{"role": "contact", "name": "n", "id_number": "\u0000"}],
            },
        ),
        ("admin", "post", "/api/v1/users", {**base_body(ctx, "UserIn", {}), "username": "a\u0000b"}),
        ("admin", "post", "/api/v1/users", {**base_body(ctx, "UserIn", {}), "password": "\u0000" * 20}),
        ("admin", "post", "/api/v1/users", {**base_body(ctx, "UserIn", {}), "company_id": NIL}),
        (
            "admin",
            "post",
            "/api/v1/users",
            {**base_body(ctx, "UserIn", {}), "role": "staff", "centre_id": NIL},
        ),
        ("admin", "post", "/api/v1/users", {**base_body(ctx, "UserIn", {}), "email": "\u0000@x"}),
        ("admin", "post", "/api/v1/auth/tokens", {"name": "\u0000"}),
        ("admin", "post", "/api/v1/auth/tokens", {"name": "t", "days": 2**63}),
        ("admin", "post", "/api/v1/auth/login", {"username": "\u0000", "password": "\u0000"}),
        ("admin", "post", "/api/v1/auth/login", {"username": "\ud800", "password": "\ud800"}),
        ("admin", "post", "/api/v1/auth/token", {"username": "custodian", "password": "x", "days": 2**63}),
    ]
    for actor, method, url, body in cases:
        await ctx.send(
            actor, method, url, body=encode(body), content_type="application/json", label=repr(body)[:80]
        )
    for query in (
        "offset=99999999999999999999",
        "offset=9223372036854775807",
        "offset=9223372036854775808",
        "limit=100&offset=18446744073709551616",
        "q=%00",
        "q=%FF%FE",
        "state=%00",
        "procedure=%00",
        "centre_id=00000000-0000-0000-0000-000000000000",
    ):
        for actor in ACTORS:
            await ctx.send(actor, "get", f"/api/v1/tenders?{query}")
            await ctx.send(actor, "get", f"/api/v1/companies?{query}")
    for query in (
        "start=9223372036854775807",
        "start=9223372036854775806&end=9223372036854775807",
        "start=99999999999999999999",
        "end=99999999999999999999",
        "offset=9223372036854775807",
    ):
        await ctx.send("bidder", "get", f"/api/v1/ledger/entries?{query}")
        await ctx.send("bidder", "get", f"/api/v1/ledger/checkpoints?{query}")
    for query in (
        "index=9223372036854775807",
        "index=0&size=9223372036854775807",
        "index=99999999999999999999",
    ):
        await ctx.send("bidder", "get", f"/api/v1/ledger/proof/inclusion?{query}")
    for query in (
        "first=9223372036854775807",
        "first=1&second=9223372036854775807",
        "first=99999999999999999999",
    ):
        await ctx.send("bidder", "get", f"/api/v1/ledger/proof/consistency?{query}")
    # Uploads: no file, an empty file, hostile names, a JSON body instead of a form.
    upload = f"/api/v1/tenders/{draft}/documents"
    for files in (
        {"other": ("a.pdf", b"x", "application/pdf")},
        {"data": ("", b"x", "application/pdf")},
        {"data": ("a/b.pdf", b"x", "application/pdf")},
        {"data": ("..", b"x", "application/pdf")},
        {"data": ("x" * 5000, b"x", "application/pdf")},
        {"data": ("a\u0000.pdf", b"x", "application/pdf")},
        {"data": ("a.pdf", b"", "application/pdf")},
        {"data": ("a.pdf", b"x", "\u0000/\u0000" * 100)},
    ):
        await ctx.send("tenderer", "post", upload, files=files, label=repr(files)[:60])
    await ctx.send("tenderer", "post", upload, body=b'{"data": 1}', content_type="application/json")
    await ctx.send("tenderer", "post", upload)
    report(ctx)


async def test_hypothesis_bodies(ctx: Context) -> None:
    """Arbitrary JSON in each field of every kernel body, from the caller most likely let through."""
    owners = {
        "TenderIn": "tenderer",
        "TenderPatch": "tenderer",
        "CompanyIn": "admin",
        "UserIn": "admin",
        "PublishIn": "tenderer",
        "AmendIn": "tenderer",
    }
    rng = random.Random(2026)
    for op in operations(ctx.spec):
        if op.body_schema is None or op.media_type != "application/json":
            continue
        base = base_body(ctx, op.body_ref, op.body_schema)
        if not isinstance(base, dict):
            continue
        count = 10 if op.body_ref in owners else 3
        for body in sample(body_strategy(ctx, op.body_schema, base), count):
            actor = owners.get(op.body_ref or "", rng.choice(ACTORS))
            await ctx.send(
                actor,
                op.method,
                fill(op, ctx),
                body=encode(body),
                content_type=op.media_type,
                label=repr(body)[:80],
            )
    report(ctx)


# -- extreme values, against the clock ------------------------------------------------------------------

ZONES = st.sampled_from(["Z", "+00:00", "+08:00", "-23:59", "+23:59"])
# Each strategy's simplest example (which Hypothesis draws first) is itself extreme.
DECIMAL_TEXT = st.one_of(
    st.builds(lambda m, e: f"{m}E+{e}", st.integers(1, 10**6), st.integers(400_000, 10**9)),
    st.builds(lambda m, e: f"{m}E-{e}", st.integers(1, 10**6), st.integers(400_000, 10**9)),
    st.integers(30, 2000).map(lambda n: "9" * n + ".99"),
    st.sampled_from(["NaN", "-Infinity", "sNaN", "-0", "１００"]),
)
FAR_TIMES = st.builds(
    lambda d, z: d.isoformat() + z,
    st.datetimes(min_value=datetime(9000, 1, 1), max_value=datetime(9999, 12, 30))
    | st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(1000, 1, 1)),
    ZONES,
)
HOSTILE_TEXT = st.one_of(
    st.text(st.characters(max_codepoint=0x1F), min_size=1, max_size=8).map(lambda t: f"a\u0000{t}b"),
    st.sampled_from(["\ud800", "\u202e" * 50]),
    st.integers(20_000, 200_000).map(lambda n: "长" * n),
)
NUMBERS = st.one_of(
    st.integers(2**63, 2**200),
    st.integers(-(2**200), -(2**63) - 1),
    st.sampled_from([2**64, 1e308, -1e308, 5e-324]),
)
NESTED = st.one_of(
    st.integers(50, 400).map(lambda d: functools.reduce(lambda inner, _: [inner], range(d), [])),
    st.integers(1_000, 5_000).map(lambda n: {str(i): i for i in range(n)}),
)
EXTREME_BY_KIND: dict[str, st.SearchStrategy[Any]] = {
    "string": st.one_of(DECIMAL_TEXT, FAR_TIMES, HOSTILE_TEXT),
    "uuid": HOSTILE_TEXT,
    "date-time": FAR_TIMES,
    "integer": NUMBERS,
    "number": st.one_of(NUMBERS, DECIMAL_TEXT),
    "boolean": NUMBERS,
    "array": st.one_of(NESTED, HOSTILE_TEXT),
    "object": st.one_of(NESTED, DECIMAL_TEXT),
}
EXTREME = st.one_of(list(EXTREME_BY_KIND.values()))


def leaves(ctx: Context, schema: dict[str, Any], base: Any, path: tuple[str, ...] = ()) -> Iterator[Any]:
    """(path, kind) of every field of ``base``, nested objects' fields included."""
    schema = resolve(ctx.spec, schema)
    for name, sub in schema.get("properties", {}).items():
        sub = resolve(ctx.spec, sub)
        yield (*path, name), kind_of(sub)
        if isinstance(base, dict) and isinstance(base.get(name), dict) and len(path) < 3:
            yield from leaves(ctx, sub, base[name], (*path, name))


def replaced(body: Any, path: tuple[str, ...], value: Any) -> Any:
    if not path:
        return value
    inner = body.get(path[0]) if isinstance(body, dict) else None
    return {**(body if isinstance(body, dict) else {}), path[0]: replaced(inner, path[1:], value)}


async def test_extreme_values_in_every_field_answer_in_time(ctx: Context) -> None:
    """Property: whatever extreme value (Hypothesis, derandomised, two per field) any field,
    nested or not, or any query parameter of any operation carries, the answer is a success or
    a 4xx problem, never a 5xx, within ``TIME_BOUND``.  Operations come from the OpenAPI
    document, so new ones are covered as soon as they exist."""
    owners = dict.fromkeys(("TenderIn", "TenderPatch", "PublishIn", "AmendIn"), "tenderer")
    for op in operations(ctx.spec):
        query = [p for p in op.params if p.get("in") == "query"]
        for values in sample(st.lists(EXTREME, min_size=len(query), max_size=len(query)), 2) if query else []:
            texts = [quote(str(v)[:3000], errors="surrogatepass") for v in values]
            pairs = "&".join(f"{p['name']}={t}" for p, t in zip(query, texts, strict=True))
            await ctx.send(ctx.next_actor(), op.method, f"{fill(op, ctx)}?{pairs}")
        if op.body_schema is None or op.media_type != "application/json":
            continue
        base = base_body(ctx, op.body_ref, op.body_schema)
        if not isinstance(base, dict):
            continue
        for path, kind in leaves(ctx, op.body_schema, base):
            for value in sample(EXTREME_BY_KIND.get(kind, EXTREME), 2):
                body = encode(replaced(base, path, value))
                actor = owners.get(op.body_ref or "") or ctx.next_actor()
                label = f"{'.'.join(path)}={value!r:.40}"
                url = fill(op, ctx)
                await ctx.send(actor, op.method, url, body=body, content_type=op.media_type, label=label)
    report(ctx)


async def test_unknown_routes_and_methods_are_problems(ctx: Context) -> None:
    for method, url in (
        ("get", "/api/v1/nope"),
        ("delete", "/api/v1/tenders"),
        ("put", "/api/v1/companies"),
        ("get", "/api/v1/tenders/" + "%FF" * 20),
        ("get", "/api/v1/" + "a/" * 500),
        ("options", "/api/v1/tenders"),
    ):
        for actor in ("admin", "bidder"):
            await ctx.send(actor, method, url)
    report(ctx)
