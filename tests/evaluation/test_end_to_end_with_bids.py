"""Bidding and evaluation connected, over the API: sealed bids submitted and opened in bidding's
hall (one bidder absent, so its bid is revoked), then draw → committee (a decline, a conflict) →
qualification → commit-reveal scoring → report with a dissent → publicity with an objection →
评定分离 → filing → award notice, with evaluation reading the real opened bids through
bidding's `OpenedBidSource` (no fixture rows stand in for bids).

Along the way: the committee of that tender — and only it, only while it evaluates — reads the
decrypted bid packages on the fly; other experts, declined or conflicted experts, the tenderer,
staff and other bidders are answered 404.  A second test draws K for a benchmark-price tender
at opening from the deadline checkpoint's root and shows anyone can recompute it.
"""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from bidding import signing
from bidding.credit import EMPTY_VERSION
from evaluation.models import EvaluationBid, EvaluationPlan
from evaluation.price_score import draw_k
from tenderhall.ledger.models import LedgerEntry
from tenderhall.orgs.models import Company
from tests.bidding.helpers import file_key_b64, make_scene, seal_and_submit

PRICES = ["980000.00", "1000000.00", "1050000.00", "960000.00"]
CEILING_YUAN = 1_200_000  # every price below it: none is rejected by rule (实施条例 第五十一条)
BONDS: list[dict[str, Any] | None] = [
    {"kind": "guarantee", "amount": "20000.00", "issuer": "中国银行上海分行", "number": "BH-2026-001"},
    {
        "kind": "cash",
        "amount": "15000.00",
        "payer_bank": "工商银行上海分行",
        "payer_account": "6222000011112222",
    },
    None,
    None,
]
BENCHMARK_RUBRIC = {
    "price_method": "benchmark_price",
    "items": [
        {"code": "T1", "name": "技术", "kind": "technical", "max_points": "60"},
        {"code": "P", "name": "价格", "kind": "price", "max_points": "40"},
    ],
}


async def _entries(services: Any, kind: str) -> list[dict[str, Any]]:
    async with services.sessionmaker() as db:
        rows = await db.scalars(select(LedgerEntry).where(LedgerEntry.kind == kind).order_by(LedgerEntry.id))
        return [json.loads(r.body)["data"] for r in rows]


async def _open_in_hall(
    client: Any, clock: Any, scene: Any, blobs: dict[int, bytes], present: list[int]
) -> None:
    """Deadline passes; the bidders in ``present`` decrypt; record, signatures, silence, outcome."""
    tid = scene.tender_id
    hall = f"/api/v1/tenders/{tid}/hall"
    clock.set(scene.deadline + timedelta(minutes=1))
    r = await client.get(hall, headers=scene.staff)
    assert r.status_code == 200, r.text
    assert r.json()["phase"] == "decrypting"
    for i in present:
        b = scene.bidders[i]
        r = await client.post(
            f"{hall}/bids/bid-{i}/key",
            json={"file_key": file_key_b64(blobs[i], b.keys.opening)},
            headers=b.headers,
        )
        assert r.status_code == 201, r.text
    clock.set(scene.deadline + timedelta(minutes=31))  # the window is over
    r = await client.post(f"{hall}/record", headers=scene.staff)
    assert r.status_code == 201, r.text
    digest = (await client.get(hall, headers=scene.staff)).json()["record_sha256"]
    for i in present:
        b = scene.bidders[i]
        statement = signing.record_statement(str(tid), digest)
        r = await client.post(
            f"{hall}/record/sign",
            json={"signature": signing.sign(b.keys.signing, statement)},
            headers=b.headers,
        )
        assert r.status_code == 201, r.text
    clock.advance(timedelta(minutes=31))  # absent bidders' silence counts as assent
    r = await client.get(hall, headers=scene.staff)
    assert r.json()["outcome"] == "opened", r.text
    r = await client.get(f"/api/v1/tenders/{tid}", headers=scene.staff)
    assert r.json()["state"] == "opened", r.text


async def test_sealed_bids_to_award_notice(
    client: Any, world: Any, pool: Any, clock: Any, helpers: Any, services: Any
) -> None:
    scene = await make_scene(services, world, client, bidders=4, estimate_yuan=CEILING_YUAN)
    tid = scene.tender_id
    base = f"/api/v1/tenders/{tid}/evaluation"
    staff, sup, tenderer = world.auth("staff"), world.auth("supervisor"), world.auth("tenderer")
    sme = scene.bidders[1]
    async with services.transaction() as db:  # the registry says company 1 is a small enterprise
        await db.execute(update(Company).where(Company.id == sme.company_id).values(sme=True))

    r = await client.put(
        f"{base}/plan",
        headers=staff,
        json={"decision_method": "lowest_price", "sme_deduction_pct": "10", "response_hours": 24},
    )
    assert r.status_code == 200, r.text

    # -- sealed bids, submitted through bidding's API ------------------------------------------------
    blobs = {
        i: await seal_and_submit(client, scene, b, f"bid-{i}", PRICES[i], bond=BONDS[i])
        for i, b in enumerate(scene.bidders)
    }

    # -- the draw: committed at once (no default bent), revealed at draw time --------------------------
    draw_at = clock.now() + timedelta(days=20)
    r = await client.post(
        f"{base}/draws",
        headers=staff,
        json={
            "seats": {"A01": 4, "C02": 1},
            "committee_size": 5,
            "evaluation_date": scene.deadline.date().isoformat(),
            "draw_at": draw_at.isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "committed", r.text
    clock.set(draw_at)
    r = await client.post(
        f"/api/v1/draws/{r.json()['id']}/reveal", headers=sup, json={"value": secrets.token_hex(32)}
    )
    assert r.status_code == 201, r.text
    seats = (await client.get(f"{base}/committee", headers=staff)).json()
    declined, conflicted = seats[0], seats[1]
    r = await client.post(
        f"/api/v1/seats/{declined['id']}/respond",
        headers=pool.auth(declined["expert_id"]),
        json={"accept": False, "reason": "当日另有评标任务"},
    )
    assert r.json()["status"] == "declined", r.text
    h = pool.auth(conflicted["expert_id"])
    assert (
        await client.post(f"/api/v1/seats/{conflicted['id']}/respond", headers=h, json={"accept": True})
    ).status_code == 201
    r = await client.post(
        f"/api/v1/seats/{conflicted['id']}/declaration",
        headers=h,
        json={"conflict": True, "statement": "近三年曾为投标公司2提供咨询"},
    )
    assert r.json()["status"] == "conflict", r.text
    for _ in range(3):  # replacements are called in turn
        for s in (await client.get(f"{base}/committee", headers=staff)).json():
            h = pool.auth(s["expert_id"])
            if s["status"] == "notified":
                await client.post(f"/api/v1/seats/{s['id']}/respond", headers=h, json={"accept": True})
                await client.post(f"/api/v1/seats/{s['id']}/declaration", headers=h, json={"conflict": False})
    seats = (await client.get(f"{base}/committee", headers=staff)).json()
    active = [s for s in seats if s["status"] == "active"]
    assert len(active) == 5
    member = pool.auth(active[0]["expert_id"])
    seated = {s["expert_id"] for s in seats}
    outsider = pool.auth(next(e.id for e in pool.experts if str(e.id) not in seated))

    def content(i: int) -> str:
        return f"/api/v1/tenders/{tid}/bids/bid-{i}/content"

    # Before opening nobody on the committee reads anything.
    assert (await client.get(content(0), headers=member)).status_code == 404

    # -- the opening hall: three decrypt, the fourth bidder stays away (revoked, 第三十一条) -------------
    await _open_in_hall(client, clock, scene, blobs, present=[0, 1, 2])
    # Opened, but the committee has not started: still nothing.
    assert (await client.get(content(0), headers=member)).status_code == 404

    # -- evaluation starts from the real opened bids ---------------------------------------------------
    async with services.sessionmaker() as db:  # no fixture rows stand in for bids
        assert (await db.scalars(select(EvaluationBid).where(EvaluationBid.tender_id == tid))).all() == []
    r = await client.post(f"{base}/start", headers=staff)
    assert r.status_code == 201, r.text
    bids = (await client.get(f"{base}/bids", headers=member)).json()
    by_company = {b["company_id"]: b for b in bids}
    assert set(by_company) == {str(scene.bidders[i].company_id) for i in (0, 1, 2)}  # decrypted only
    for i in (0, 1, 2):
        b = by_company[str(scene.bidders[i].company_id)]
        assert b["price"] == PRICES[i]
        assert b["form"]["price"] == PRICES[i]
        assert b["form"]["project_manager"] == "张工"
        assert b["is_sme"] is (i == 1)
        assert b["evidence"]["bid"] == f"bid-{i}"
        assert b["evidence"]["credit"]["listed"] is False
        assert b["evidence"]["credit"]["list_version_hash"] == EMPTY_VERSION
    assert by_company[str(scene.bidders[0].company_id)]["evidence"]["bond"] == {
        "kind": "guarantee",
        "amount": "20000.00",
        "issuer": "中国银行上海分行",
        "number": "BH-2026-001",
    }
    assert (
        by_company[str(scene.bidders[1].company_id)]["evidence"]["bond"]["payer_account"]
        == "6222000011112222"
    )
    assert by_company[str(scene.bidders[2].company_id)]["evidence"]["bond"] is None
    started = (await _entries(services, "tender.start_evaluation"))[-1]
    assert started["bids"] == 3

    # -- the committee reads the decrypted packages on the fly; nobody else does ------------------------
    for s in active:
        r = await client.get(content(1), headers=pool.auth(s["expert_id"]))
        assert r.status_code == 200, r.text
        form = json.loads(zipfile.ZipFile(io.BytesIO(r.content)).read("bid-form.json"))
        assert form["price"] == PRICES[1]
    assert (await client.get(content(1), headers=sme.headers)).status_code == 200  # its own bid
    refused = {
        "other expert": outsider,
        "expert without a seat": world.auth("expert"),
        "declined expert": pool.auth(declined["expert_id"]),
        "conflicted expert": pool.auth(conflicted["expert_id"]),
        "tenderer": tenderer,
        "agent": world.auth("agent"),
        "staff": staff,
        "supervisor": sup,
        "other bidder": scene.bidders[0].headers,
        "anonymous": {},
    }
    for who, headers in refused.items():
        r = await client.get(content(1), headers=headers)
        # Anonymous callers are asked to sign in before anything is looked up.
        assert r.status_code == (401 if who == "anonymous" else 404), (who, r.status_code, r.text)
    # The revoked bid was never decrypted: not even its own bidder gets content.
    assert (await client.get(content(3), headers=member)).status_code in (404, 409)
    # Every reading is in the access log, for the centre and the supervisors only; the public
    # ledger commits to each reading without naming the reader.
    reads_url = f"/api/v1/tenders/{tid}/bid-content-reads"
    for headers in (staff, sup):
        reads = (await client.get(reads_url, headers=headers)).json()
        assert [(x["bid"], x["role"]) for x in reads] == [("bid-1", "expert")] * 5 + [("bid-1", "bidder")]
        assert len({x["user_id"] for x in reads[:5]}) == 5  # each member once
        assert all(x["reader"] for x in reads)
    for headers in (member, sme.headers, tenderer, {}):
        assert (await client.get(reads_url, headers=headers)).status_code in (401, 403, 404)
    logged = await _entries(services, "bid.content_read")
    assert len(logged) == 6
    assert all(set(e) == {"tender", "bid", "reading"} for e in logged)

    # -- qualification, commit-reveal scoring ------------------------------------------------------------
    companies = sorted(by_company)
    for k, s in enumerate(active):
        for c in companies:
            passed = not (k == 0 and c == companies[0])
            r = await client.post(
                f"{base}/qualification",
                headers=pool.auth(s["expert_id"]),
                json={"company_id": c, "passed": passed, "reason": "" if passed else "保函有效期不足"},
            )
            assert r.status_code == 201, r.text
    sheets = {
        s["member"]: helpers.make_sheet(
            tid, s["member"], {(c, "T1"): str(40 + j + k % 2) for j, c in enumerate(companies)}
        )
        for k, s in enumerate(active)
    }
    by_member = {s["member"]: pool.auth(s["expert_id"]) for s in active}
    for m, sheet in sheets.items():
        r = await client.post(
            f"{base}/scores/commit", headers=by_member[m], json={"digest": helpers.digest(sheet)}
        )
        assert r.status_code == 201, r.text
    for m, sheet in sheets.items():
        r = await client.post(f"{base}/scores/reveal", headers=by_member[m], json={"sheet": sheet})
        assert r.status_code == 201, r.text

    # -- the report: price scores computed from the opened prices (SME deduction 10 %) -------------------
    r = await client.post(f"{base}/report", headers=staff)
    assert r.status_code == 201, r.text
    report = r.json()
    scores = report["content"]["price_scores"]
    c0, c1, c2 = (str(scene.bidders[i].company_id) for i in (0, 1, 2))
    assert scores[c1]["evaluated_price"] == "900000.00"  # 1 000 000 less 10 %
    assert scores[c1]["score"] == "40.00"
    assert scores[c0]["score"] == "36.73"  # 900 000 / 980 000 x 40
    assert scores[c2]["score"] == "34.29"  # 900 000 / 1 050 000 x 40
    members = sorted(by_member)
    for m in members:
        dissent = m == members[-1]
        r = await client.post(
            f"{base}/report/sign",
            headers=by_member[m],
            json={
                "sha256": report["sha256"],
                "dissent": dissent,
                "reason": "技术评分偏高" if dissent else "",
            },
        )
        assert r.status_code == 201, r.text
    r = await client.post(f"{base}/report/finalize", headers=staff)
    assert r.status_code == 201, r.text
    candidates = report["content"]["candidates"]

    # -- publicity, objection, 评定分离, filing, award ------------------------------------------------------
    r = await client.post(
        f"{base}/objections", headers=scene.bidders[2].headers, json={"text": "请复核第一候选人业绩"}
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{base}/objections/{r.json()['id']}/answer", headers=tenderer, json={"text": "经复核，业绩真实有效"}
    )
    assert r.status_code == 201, r.text
    winner = min(candidates, key=lambda c: Decimal(scores[c]["bid_price"]))
    r = await client.post(
        f"{base}/decision", headers=tenderer, json={"company_id": winner, "reason": "候选人中投标报价最低"}
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"{base}/decision/file", headers=sup, json={"accept": True, "note": "已备案"})
    assert r.status_code == 201, r.text
    clock.advance(timedelta(days=3))
    r = await client.post(f"{base}/award", headers=staff)
    assert r.status_code == 201, r.text
    notices = r.json()
    assert sorted(n["kind"] for n in notices) == ["award", "result", "result"]
    award = next(n for n in notices if n["kind"] == "award")
    assert award["company_id"] == winner
    assert award["content"]["contract_price"] == scores[winner]["bid_price"]

    # After the award the committee's reading is over; the tenderer never reads bid packages.
    assert (await client.get(content(1), headers=member)).status_code == 404
    assert (await client.get(content(1), headers=tenderer)).status_code == 404

    async with services.sessionmaker() as db:
        kinds = [e.kind for e in await db.scalars(select(LedgerEntry).order_by(LedgerEntry.id))]
    expected = [
        "bid.submitted",
        "draw.committed",
        "draw.revealed",
        "tender.close",
        "bids.deadline_checkpoint",
        "tender.start_opening",
        "bid.decrypted",
        "bid.classified",
        "hall.record_published",
        "tender.finish_opening",
        "tender.start_evaluation",
        "qualification.reviewed",
        "scoring.committed",
        "scoring.revealed",
        "report.drafted",
        "report.signed",
        "tender.recommend",
        "objection.raised",
        "objection.answered",
        "decision.made",
        "decision.filed",
        "tender.award",
    ]
    positions = [kinds.index(k) for k in expected]
    assert positions == sorted(positions), [k for _, k in sorted(zip(positions, expected, strict=True))]
    assert kinds.count("bid.decrypted") == 3


async def test_benchmark_k_is_drawn_publicly_at_opening(
    client: Any, world: Any, clock: Any, services: Any
) -> None:
    scene = await make_scene(
        services, world, client, bidders=3, rubric=BENCHMARK_RUBRIC, estimate_yuan=CEILING_YUAN
    )
    tid = scene.tender_id
    base = f"/api/v1/tenders/{tid}/evaluation"
    staff = world.auth("staff")
    bench = {"k_range": ["0.01", "0.03"], "k_step": "0.005", "deduction_above": "1", "deduction_below": "0.5"}
    r = await client.put(
        f"{base}/plan", headers=staff, json={"benchmark": {**bench, "k_range": ["0.5", "0.2"]}}
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "plan.benchmark_invalid"
    r = await client.put(f"{base}/plan", headers=staff, json={"benchmark": bench})
    assert r.status_code == 200, r.text
    blobs = {
        i: await seal_and_submit(client, scene, b, f"bid-{i}", PRICES[i]) for i, b in enumerate(scene.bidders)
    }
    await _open_in_hall(client, clock, scene, blobs, present=[0, 1, 2])

    (checkpoint,) = await _entries(services, "bids.deadline_checkpoint")
    (drawn,) = await _entries(services, "evaluation.k_drawn")
    assert drawn["seed"] == checkpoint["root"]
    assert drawn["k_range"] == ["0.01", "0.03"]
    recomputed = draw_k(
        (Decimal("0.01"), Decimal("0.03")), Decimal("0.005"), bytes.fromhex(checkpoint["root"])
    )
    assert Decimal(drawn["k"]) == recomputed
    async with services.sessionmaker() as db:
        plan = await db.scalar(select(EvaluationPlan).where(EvaluationPlan.tender_id == tid))
        assert plan is not None
        assert Decimal(plan.benchmark["k"]) == recomputed
        assert plan.benchmark["deduction_above"] == "1"
    # The seed is public now: K and its range can no longer be chosen.
    r = await client.put(f"{base}/plan", headers=staff, json={"benchmark": {**bench, "k": "0.03"}})
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "plan.k_fixed"
    r = await client.put(f"{base}/plan", headers=staff, json={"benchmark": {"deduction_above": "2"}})
    assert r.status_code == 200, r.text  # other benchmark settings may still change; K stays
    async with services.sessionmaker() as db:
        plan = await db.scalar(select(EvaluationPlan).where(EvaluationPlan.tender_id == tid))
        assert plan is not None
        assert Decimal(plan.benchmark["k"]) == recomputed
        assert plan.benchmark["deduction_above"] == "2"
