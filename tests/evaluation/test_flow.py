"""End to end over the API: draw request → approval → commit → reveal → decline, conflict and
replacements → opening → qualification → commit-reveal scoring with a late commit and an outlier
reason → report with a dissent and a silent member → publicity with an objection → 评定分离 →
supervisor filing → award notice.  At every stage, no expert identity reaches a bidder, the
tenderer, its agent or the public until the award.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import select

from tenderhall.ledger.models import LedgerEntry

OUTSIDERS = ("bidder", "bidder_other", "tenderer", "agent", None)


async def call(client: Any, method: str, url: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    return await client.request(method, url, headers=headers or {}, **kw)


async def assert_sealed(client: Any, world: Any, pool: Any, tender_id: Any, extra: list[str] = ()) -> None:
    """Every evaluation GET, as every outsider: no expert name, registry id or username in the answer."""
    base = f"/api/v1/tenders/{tender_id}/evaluation"
    urls = [
        f"{base}/{p}"
        for p in (
            "draw",
            "draw/record",
            "committee",
            "progress",
            "bids",
            "statistics",
            "report",
            "publicity",
            "objections",
            "decision",
            "notices",
        )
    ]
    urls += [
        f"/api/v1/tenders/{tender_id}",
        "/api/v1/experts/",
        "/api/v1/experts/export",
        "/api/v1/seats/",
        "/api/v1/notifications/",
        *extra,
    ]
    urls += [f"/api/v1/ledger/entries?start={k}&end={k + 100}" for k in range(0, 1500, 100)]
    secrets_ = [*pool.names(), *(str(e.id) for e in pool.experts), *(u.username for u in pool.users.values())]
    for who in OUTSIDERS:
        headers = world.auth(who) if who else {}
        for url in urls:
            r = await client.get(url, headers=headers)
            assert r.status_code < 500, (url, r.text)
            assert r.status_code != 422, (url, r.text)
            for s in secrets_:
                assert s not in r.text, f"{s!r} leaked to {who} by {url}"


async def test_draw_to_award(
    client: Any, world: Any, pool: Any, tender: Any, clock: Any, helpers: Any, services: Any
) -> None:
    tid = tender.id
    base = f"/api/v1/tenders/{tid}/evaluation"
    staff, sup, tenderer = world.auth("staff"), world.auth("supervisor"), world.auth("tenderer")

    r = await client.put(
        f"{base}/plan",
        headers=staff,
        json={
            "decision_method": "lowest_price",
            "outlier_threshold_pct": "20",
            "scoring_deadline": (tender.deadline + timedelta(hours=3)).isoformat(),
            "signing_deadline": (tender.deadline + timedelta(hours=6)).isoformat(),
        },
    )
    assert r.status_code == 200, r.text

    # -- draw request bending the 2/3 remote default: needs the supervisor -------------------------
    draw_at = clock.now() + timedelta(days=20)
    body = {
        "seats": {"A01": 4, "C02": 1},
        "committee_size": 5,
        "remote_fraction": "1/3",
        "evaluation_date": tender.deadline.date().isoformat(),
        "draw_at": draw_at.isoformat(),
    }
    r = await client.post(f"{base}/draws", headers=world.auth("bidder"), json=body)
    assert r.status_code in (403, 404)
    r = await client.post(f"{base}/draws", headers=staff, json=body)
    assert r.status_code == 201, r.text
    req = r.json()
    assert req["status"] == "pending_approval"
    assert req["bends"] == ["remote_fraction"]
    r = await client.post(
        f"/api/v1/draws/{req['id']}/decision", headers=staff, json={"approve": True, "note": "x"}
    )
    assert r.status_code == 403
    r = await client.post(
        f"/api/v1/draws/{req['id']}/decision",
        headers=sup,
        json={"approve": True, "note": "本地专家不足，同意降低异地比例"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "committed", r.text
    info = (await client.get(f"{base}/draw", headers=staff)).json()
    commitment = info["commitment_digest"]
    assert info["commitment"]["exclusion_counts"]["conflict"] == 1  # the bidder's employee

    # The commitment is in the ledger before any randomness is supplied.
    async with services.sessionmaker() as db:
        committed = (await db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "draw.committed"))).one()
        assert json.loads(committed.body)["data"]["commitment"] == commitment

    value = secrets.token_hex(32)
    r = await client.post(f"/api/v1/draws/{req['id']}/reveal", headers=sup, json={"value": value})
    assert r.status_code == 409  # before the draw time
    clock.set(draw_at)
    r = await client.post(f"/api/v1/draws/{req['id']}/reveal", headers=sup, json={"value": value})
    assert r.status_code == 201, r.text
    await assert_sealed(client, world, pool, tid)

    committee = (await client.get(f"{base}/committee", headers=staff)).json()
    assert len(committee) == 5
    assert all(s["status"] == "notified" for s in committee)

    # -- decline, conflict declaration, acceptances ------------------------------------------------
    first, second = committee[0], committee[1]
    r = await client.post(
        f"/api/v1/seats/{first['id']}/declaration",
        headers=pool.auth(first["expert_id"]),
        json={"conflict": False},
    )
    assert r.status_code == 403  # must accept before declaring
    r = await client.post(
        f"/api/v1/seats/{first['id']}/respond", headers=pool.auth(second["expert_id"]), json={"accept": True}
    )
    assert r.status_code == 404  # not your seat
    r = await client.post(
        f"/api/v1/seats/{first['id']}/respond",
        headers=pool.auth(first["expert_id"]),
        json={"accept": False, "reason": "当日另有评标任务"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "declined", r.text
    r = await client.post(
        f"/api/v1/seats/{second['id']}/respond", headers=pool.auth(second["expert_id"]), json={"accept": True}
    )
    assert r.json()["status"] == "accepted"
    r = await client.post(
        f"/api/v1/seats/{second['id']}/declaration",
        headers=pool.auth(second["expert_id"]),
        json={"conflict": True, "statement": "配偶在投标公司1任职"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "conflict", r.text

    async def accept_all() -> list[dict[str, Any]]:
        seats = (await client.get(f"{base}/committee", headers=staff)).json()
        for s in seats:
            if s["status"] == "notified":
                h = pool.auth(s["expert_id"])
                # The notification reached the expert in the app before anything else.
                notes = (await client.get("/api/v1/notifications/", headers=h)).json()
                assert any(n["kind"] == "drawn" and s["id"] in json.dumps(n["params"]) for n in notes)
                assert (
                    await client.post(f"/api/v1/seats/{s['id']}/respond", headers=h, json={"accept": True})
                ).status_code == 201
                assert (
                    await client.post(
                        f"/api/v1/seats/{s['id']}/declaration", headers=h, json={"conflict": False}
                    )
                ).status_code == 201
            elif s["status"] == "accepted":
                await client.post(
                    f"/api/v1/seats/{s['id']}/declaration",
                    headers=pool.auth(s["expert_id"]),
                    json={"conflict": False},
                )
        return [
            s
            for s in (await client.get(f"{base}/committee", headers=staff)).json()
            if s["status"] == "active"
        ]

    active = await accept_all()
    assert len(active) == 5
    assert sorted(s["member"] for s in active) == ["M1", "M2", "M3", "M4", "M5"]
    reasons = {s["status"] for s in (await client.get(f"{base}/committee", headers=staff)).json()}
    assert {"declined", "conflict", "active"} == reasons

    # Before opening, even committee members see no bids.
    r = await client.get(f"{base}/bids", headers=pool.auth(active[0]["expert_id"]))
    assert r.status_code in (403, 404)

    # -- opening (bidding's part, simulated) and evaluation ---------------------------------------
    await helpers.open_tender(world, clock, tender)
    await assert_sealed(client, world, pool, tid)
    r = await client.post(f"{base}/start", headers=staff)
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "evaluating", r.text
    # Any expert of the pool the draw did not seat (experts 5 and 6 may both have been drawn).
    seated = {s["expert_id"] for s in active}
    outsider = next(e for e in pool.experts if str(e.id) not in seated)
    assert (await client.get(f"{base}/bids", headers=pool.auth(outsider.id))).status_code == 404

    bids = (await client.get(f"{base}/bids", headers=pool.auth(active[0]["expert_id"]))).json()
    companies = sorted(b["company_id"] for b in bids)
    assert len(companies) == 3
    assert bids[0]["evidence"]["credit"] == {"listed": False}
    for k, s in enumerate(active):
        for c in companies:
            passed = not (k == 0 and c == companies[2])  # one member fails a bid: the majority passes it
            r = await client.post(
                f"{base}/qualification",
                headers=pool.auth(s["expert_id"]),
                json={"company_id": c, "passed": passed, "reason": "" if passed else "业绩证明不足"},
            )
            assert r.status_code == 201, r.text

    sheets = {}
    for k, s in enumerate(active):
        scores = {}
        for j, c in enumerate(companies):
            scores[(c, "T1")] = str(30 + j + (k % 2))
            scores[(c, "C1")] = str(15 - j)
        if k == 4:
            scores[(companies[0], "T1")] = "10"  # far below the median (threshold 20% of 40 points)
        sheets[s["member"]] = helpers.make_sheet(tid, s["member"], scores)
    by_member = {s["member"]: s for s in active}
    for m in ("M1", "M2", "M3", "M4"):
        r = await client.post(
            f"{base}/scores/commit",
            headers=pool.auth(by_member[m]["expert_id"]),
            json={"digest": helpers.digest(sheets[m])},
        )
        assert r.status_code == 201, r.text
        assert r.json()["late"] is False, r.text
    r = await client.post(
        f"{base}/scores/reveal", headers=pool.auth(by_member["M1"]["expert_id"]), json={"sheet": sheets["M1"]}
    )
    assert r.status_code == 409
    assert r.json()["code"] == "scoring.not_all_committed"
    clock.advance(timedelta(hours=4))  # past the scoring deadline: M5's commit is late
    r = await client.post(
        f"{base}/scores/commit",
        headers=pool.auth(by_member["M5"]["expert_id"]),
        json={"digest": helpers.digest(sheets["M5"])},
    )
    assert r.status_code == 201
    assert r.json()["late"] is True
    bad = dict(sheets["M2"], salt=secrets.token_hex(16))
    r = await client.post(
        f"{base}/scores/reveal", headers=pool.auth(by_member["M2"]["expert_id"]), json={"sheet": bad}
    )
    assert r.status_code == 422
    assert r.json()["code"] == "scoring.digest_mismatch"
    for m, sheet in sheets.items():
        r = await client.post(
            f"{base}/scores/reveal", headers=pool.auth(by_member[m]["expert_id"]), json={"sheet": sheet}
        )
        assert r.status_code == 201, r.text
    progress = (await client.get(f"{base}/progress", headers=staff)).json()
    assert progress["outliers_missing_reason"] == [["M5", companies[0], "T1"]]
    assert [p["late"] for p in progress["members"]] == [False, False, False, False, True]
    r = await client.post(f"{base}/report", headers=staff)
    assert r.status_code == 409
    assert r.json()["code"] == "scoring.reasons_missing"
    r = await client.post(
        f"{base}/scores/reasons",
        headers=pool.auth(by_member["M5"]["expert_id"]),
        json={"company_id": companies[0], "item": "T1", "reason": "施工组织设计未覆盖夜间施工降噪"},
    )
    assert r.status_code == 201, r.text
    stats = (await client.get(f"{base}/statistics", headers=sup)).json()
    assert stats["outliers"][0]["reason"].startswith("施工")
    assert stats["kendalls_w"] is not None
    assert set(stats["deviation"]) == {"M1", "M2", "M3", "M4", "M5"}
    assert (
        await client.get(f"{base}/statistics", headers=pool.auth(by_member["M1"]["expert_id"]))
    ).status_code in (403, 404)

    r = await client.post(f"{base}/report", headers=staff)
    assert r.status_code == 201, r.text
    report = r.json()
    content = report["content"]
    assert content["candidates"]
    assert len(content["candidates"]) <= 3
    # Price scores are computed: lowest price first, 980000 gets the full 40 points.
    assert content["price_scores"][str(world.companies[0].id)]["score"] == "40.00"
    for m in ("M1", "M2", "M3"):
        r = await client.post(
            f"{base}/report/sign",
            headers=pool.auth(by_member[m]["expert_id"]),
            json={"sha256": report["sha256"]},
        )
        assert r.status_code == 201
    r = await client.post(
        f"{base}/report/sign",
        headers=pool.auth(by_member["M4"]["expert_id"]),
        json={"sha256": report["sha256"], "dissent": True},
    )
    assert r.status_code == 422  # a dissent needs reasons
    r = await client.post(
        f"{base}/report/sign",
        headers=pool.auth(by_member["M4"]["expert_id"]),
        json={"sha256": report["sha256"], "dissent": True, "reason": "对第一名技术评分有不同意见"},
    )
    assert r.status_code == 201
    assert r.json()["verdict"] == "dissent"
    r = await client.post(f"{base}/report/finalize", headers=staff)
    assert r.status_code == 409  # M5 has neither signed nor given reasons, deadline not passed
    clock.advance(timedelta(hours=3))
    r = await client.post(f"{base}/report/finalize", headers=staff)
    assert r.status_code == 201, r.text
    signed = (await client.get(f"{base}/report", headers=tenderer)).json()
    assert [s["verdict"] for s in signed["signatures"]] == ["assent", "assent", "assent", "dissent", "silent"]
    await assert_sealed(client, world, pool, tid)

    # -- publicity, objection, decision, filing, award -------------------------------------------
    pub = (await client.get(f"{base}/publicity")).json()
    assert [c["bidder"] for c in pub["candidates"]] == content["candidates"]
    r = await client.post(
        f"{base}/objections", headers=world.auth("bidder_other"), json={"text": "第一候选人业绩造假"}
    )
    assert r.status_code == 201, r.text
    objection = r.json()
    assert len((await client.get(f"{base}/objections", headers=world.auth("bidder"))).json()) == 0
    winner = min(content["candidates"], key=lambda c: Decimal(content["price_scores"][c]["bid_price"]))
    wrong = next(c for c in content["candidates"] if c != winner)
    r = await client.post(f"{base}/decision", headers=tenderer, json={"company_id": wrong, "reason": "x"})
    assert r.status_code == 422
    assert r.json()["code"] == "decision.method_violated"
    r = await client.post(
        f"{base}/decision",
        headers=tenderer,
        json={"company_id": winner, "reason": "按招标文件规定的最低投标价法确定"},
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"{base}/award", headers=staff)
    assert r.status_code == 409
    assert r.json()["code"] == "award.publicity_running"
    clock.advance(timedelta(days=3))
    r = await client.post(f"{base}/objections", headers=world.auth("bidder"), json={"text": "late"})
    assert r.status_code == 409
    r = await client.post(f"{base}/award", headers=staff)
    assert r.json()["code"] == "award.objections_open"
    r = await client.post(
        f"{base}/objections/{objection['id']}/answer",
        headers=tenderer,
        json={"text": "经核查，业绩证明真实有效"},
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"{base}/award", headers=staff)
    assert r.json()["code"] == "award.decision_not_filed"
    r = await client.post(f"{base}/decision/file", headers=sup, json={"accept": True, "note": "已备案"})
    assert r.status_code == 201, r.text
    await assert_sealed(client, world, pool, tid)
    r = await client.post(f"{base}/award", headers=staff)
    assert r.status_code == 201, r.text
    kinds = sorted(n["kind"] for n in r.json())
    assert kinds == ["award", "result", "result"]

    # -- after publication: names and the draw record are public ----------------------------------
    public = (await client.get(f"{base}/committee")).json()
    assert {s["name"] for s in public if s["status"] == "active"} <= set(pool.names())
    record = await client.get(f"{base}/draw/record")
    assert record.status_code == 200
    assert record.headers["x-commitment-digest"] == commitment
    from evaluation.api.schemas import DrawRecordOut
    from evaluation.draw import DrawRecord
    from evaluation.draw_verify import verify_draw

    rec = DrawRecord.from_json(record.content)
    msgspec.json.decode(record.content, type=DrawRecordOut)  # the document describes the record
    assert [r.reason for r in rec.replacements] == ["declined", "conflict_declared"]
    assert verify_draw(record.content, anchored_commitment_digest=commitment).ok

    async with services.sessionmaker() as db:
        kinds_logged = [e.kind for e in await db.scalars(select(LedgerEntry).order_by(LedgerEntry.id))]
    for kind in (
        "draw.requested",
        "draw.approved",
        "draw.committed",
        "draw.revealed",
        "seat.declined",
        "seat.conflict_declared",
        "draw.replacement",
        "tender.start_evaluation",
        "qualification.reviewed",
        "scoring.committed",
        "scoring.revealed",
        "scoring.outlier_reason",
        "report.drafted",
        "report.signed",
        "tender.recommend",
        "objection.raised",
        "objection.answered",
        "decision.made",
        "decision.filed",
        "tender.award",
    ):
        assert kind in kinds_logged, kind
    assert kinds_logged.index("draw.committed") < kinds_logged.index("draw.revealed")
