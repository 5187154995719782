"""Expert registry: CSV import with bad rows, export, experts' own leave and declarations, and the
response deadline decided by the clock inside the transaction."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import timedelta
from typing import Any

from evaluation.service import Evaluation
from tenderhall.orgs import uscc

CSV_TEXT = """name,id_number,home_centre,employer,employer_uscc,titles,specialties,status,email,phone
张三,310101199001011234,SH,上海设计院,{good},高级工程师;注册造价工程师,A01;C02,active,zhang@example.org,13800000000
,310101199001011235,SH,缺名字,,,A01,active,,
李四,,XX,未知中心,,,A01,active,,
王五,,HZ,杭州研究院,91310000BADBADBAD0,,A01,active,,
赵六,,HZ,杭州研究院,,,A01,sleeping,not-an-email,
钱七,,HZ,杭州大学,,教授,A01,on_leave,qian@example.org,
"""


async def test_csv_import_reports_each_bad_row_and_keeps_the_good(client: Any, world: Any) -> None:
    good = uscc.make("91310000MA1FL0000")
    text = CSV_TEXT.format(good=good)
    r = await client.post(
        "/api/v1/experts/import",
        headers={**world.auth("staff"), "Content-Type": "text/csv"},
        content=text.encode(),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["imported"], body["rejected"]) == (2, 4)
    by_line = {row["line"]: row for row in body["rows"]}
    assert by_line[2]["ok"]
    assert by_line[7]["ok"]
    assert [e["code"] for e in by_line[3]["errors"]] == ["csv.required"]
    assert [e["code"] for e in by_line[4]["errors"]] == ["csv.centre_unknown"]
    assert [e["code"] for e in by_line[5]["errors"]] == ["csv.uscc_invalid"]
    assert sorted(e["code"] for e in by_line[6]["errors"]) == ["csv.email_invalid", "csv.status_invalid"]
    assert all(e["message"] != e["code"] for row in body["rows"] for e in row["errors"])  # translated

    exported = await client.get("/api/v1/experts/export", headers=world.auth("staff"))
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(r["name"] for r in rows) == ["张三", "钱七"]
    zhang = next(r for r in rows if r["name"] == "张三")
    assert zhang["specialties"] == "A01;C02"
    assert zhang["employer_uscc"] == good
    assert zhang["city"] == "上海"
    assert "310101199001011234" not in exported.text  # identity numbers are stored only as keyed hashes

    # Only staff import, and only into their own region; a bidder or an expert may not at all.
    for who in ("bidder", "expert"):
        r = await client.post(
            "/api/v1/experts/import",
            headers={**world.auth(who), "Content-Type": "text/csv"},
            content=text.encode(),
        )
        assert r.status_code == 403, (who, r.text)
    r = await client.post(
        "/api/v1/experts/import",
        headers={**world.auth("staff_far"), "Content-Type": "text/csv"},
        content=text.encode(),
    )
    assert r.json()["imported"] == 0  # 珠三角 staff cannot place experts at 长三角 centres


async def test_specialty_codes_import_hierarchically(client: Any, world: Any) -> None:
    text = "code,name,parent\nA,工程类,\nA01,房屋建筑,A\nA0101,装饰装修,A01\nB01,孤儿,Z\n"
    r = await client.post(
        "/api/v1/experts/specialties/import",
        headers={**world.auth("staff"), "Content-Type": "text/csv"},
        content=text.encode(),
    )
    assert r.status_code == 201
    assert (r.json()["imported"], r.json()["rejected"]) == (3, 1)
    codes = (await client.get("/api/v1/experts/specialties")).json()
    assert [(c["code"], c["parent"]) for c in codes] == [("A", None), ("A01", "A"), ("A0101", "A01")]
    # Now the code table is known: an expert row with an unknown code is refused.
    bad = "name,home_centre,employer,specialties\n孙八,SH,某院,Q99\n"
    r = await client.post(
        "/api/v1/experts/import",
        headers={**world.auth("staff"), "Content-Type": "text/csv"},
        content=bad.encode(),
    )
    assert r.json()["rows"][0]["errors"][0]["code"] == "csv.specialty_unknown"


async def test_experts_keep_their_own_leave_and_declarations(client: Any, world: Any, pool: Any) -> None:
    me, other = pool.experts[0], pool.experts[1]
    h = pool.auth(me.id)
    assert (await client.get("/api/v1/experts/me", headers=h)).json()["id"] == str(me.id)
    r = await client.post(
        f"/api/v1/experts/{me.id}/absences",
        headers=h,
        json={"starts_on": "2026-04-01", "ends_on": "2026-04-10", "reason": "出国"},
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/api/v1/experts/{me.id}/absences",
        headers=h,
        json={"kind": "suspension", "starts_on": "2026-04-01", "ends_on": "2026-04-10"},
    )
    assert r.status_code == 403
    r = await client.post(
        f"/api/v1/experts/{me.id}/relations",
        headers=h,
        json={"kind": "shareholding", "party_uscc": world.companies[1].uscc, "party_name": "投标公司1"},
    )
    assert r.status_code == 201, r.text
    assert (await client.get(f"/api/v1/experts/{other.id}", headers=h)).status_code == 404
    r = await client.post(
        f"/api/v1/experts/{other.id}/absences",
        headers=h,
        json={"starts_on": "2026-04-01", "ends_on": "2026-04-10"},
    )
    assert r.status_code == 404
    # The pool as the avoidance rules see it carries both.
    async with world.services.sessionmaker() as db:
        mine = next(
            e
            for e in await world.services.get(Evaluation).registry.pool(db, world.region.id)
            if e.expert_id == str(me.id)
        )
    assert mine.leaves
    assert mine.relations[0].party_id == world.companies[1].uscc


async def test_silence_past_the_deadline_is_a_no_show_with_replacement(
    client: Any, world: Any, pool: Any, tender: Any, clock: Any
) -> None:
    base = f"/api/v1/tenders/{tender.id}/evaluation"
    staff = world.auth("staff")
    assert (await client.put(f"{base}/plan", headers=staff, json={"response_hours": 2})).status_code == 200
    r = await client.post(
        f"{base}/draws",
        headers=staff,
        json={
            "seats": {"A01": 5},
            "committee_size": 5,
            "evaluation_date": tender.deadline.date().isoformat(),
            "draw_at": clock.now().isoformat(),
        },
    )
    r = await client.post(
        f"/api/v1/draws/{r.json()['id']}/reveal",
        headers=world.auth("supervisor"),
        json={"value": secrets.token_hex(16)},
    )
    assert r.status_code == 201, r.text
    seats = (await client.get(f"{base}/committee", headers=staff)).json()
    clock.advance(timedelta(hours=2))  # exactly at the deadline: too late
    late = seats[0]
    r = await client.post(
        f"/api/v1/seats/{late['id']}/respond", headers=pool.auth(late["expert_id"]), json={"accept": True}
    )
    assert r.status_code == 409
    assert r.json()["code"] == "seat.response_late"
    after = (await client.get(f"{base}/committee", headers=staff)).json()
    statuses = {s["id"]: s["status"] for s in after}
    assert all(statuses[s["id"]] == "no_show" for s in seats)  # everyone was silent
    assert sum(1 for s in after if s["status"] == "notified") == 5  # five reserves called
