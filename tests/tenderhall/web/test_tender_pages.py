"""The tender list's search, a tender's page and the bidder's work on it (报名, 答疑), through the
test client: the happy paths, and the attacks — registering twice, registering for a closed
tender, a form without its CSRF token, over-long or injected searches, and a draft's reference
number, which must answer exactly as one that names nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from tenderhall.tenders.models import Clarification, Registration
from tests.conftest import PASSWORD
from tests.support.tenders import draft_tender

RUBRIC = {
    "price_method": "lowest_price",
    "items": [
        {"code": "T1", "name": "技术方案", "kind": "technical", "max_points": "70"},
        {"code": "P", "name": "价格", "kind": "price", "max_points": "30"},
    ],
}
HTML = {"accept": "text/html"}


async def tender(
    services: Any, world: Any, title: str, *, centre: int = 0, who: str = "tenderer", publish: bool = True
) -> Any:
    async with services.transaction() as db:
        made = await draft_tender(
            services,
            db,
            world.who(who),
            title=title,
            estimate_fen=500_000_00,
            tenderer_id=world.tenderers[0 if who == "tenderer" else 1].id,
            centre_id=world.centres[centre].id,
            rubric=RUBRIC,
        )
        if publish:
            await services.tenders.publish(
                db, world.who(who), made.id, services.clock.now() + timedelta(days=21)
            )
    return made


def csrf_of(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


async def sign_in(client: Any, username: str) -> None:
    token = csrf_of((await client.get("/login")).text)
    out = await client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "_csrf_token": token},
        follow_redirects=False,
    )
    assert out.status_code in (302, 303), out.text


async def count(services: Any, model: Any, **where: Any) -> int:
    async with services.reader() as db:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(await db.scalar(query) or 0)


async def test_search_by_reference_name_centre_procedure_and_state(client, world, services, clock) -> None:
    road = await tender(services, world, "浦东道路改造工程")
    school = await tender(services, world, "杭州学校食堂设备采购", centre=1)
    await tender(services, world, "闵行桥梁维修", publish=False)  # a draft: never listed

    def refs(html: str) -> set[str]:
        return set(re.findall(r'class="ref"><a href="/tenders/([A-Z0-9_-]+)"', html))

    assert refs((await client.get("/")).text) == {road.reference, school.reference}
    assert refs((await client.get("/", params={"q": road.reference.lower()})).text) == {road.reference}
    assert refs((await client.get("/", params={"q": "食堂"})).text) == {school.reference}
    by_centre = await client.get("/", params={"centre": str(world.centres[1].id)})
    assert refs(by_centre.text) == {school.reference}
    assert refs((await client.get("/", params={"procedure": "inquiry"})).text) == set()
    assert refs((await client.get("/", params={"procedure": "open_tender", "state": "published"})).text) == {
        road.reference,
        school.reference,
    }
    clock.set(clock.now() + timedelta(days=22))
    async with services.transaction() as db:  # the app's sweeper, which these tests do not run
        await services.tenders.sweep(db)
    closed = await client.get("/", params={"state": "closed"})
    assert refs(closed.text) == {road.reference, school.reference}
    # The row links by reference number, and that address opens the tender.
    page = await client.get(f"/tenders/{road.reference}", headers=HTML)
    assert page.status_code == 200
    assert "浦东道路改造工程" in page.text


async def test_bad_or_hostile_searches_get_a_message_not_an_error(client, world, services) -> None:
    road = await tender(services, world, "道路_改造%工程")
    await tender(services, world, "道路改造工程二期")
    for params, message in (
        ({"q": "路" * 101}, "搜索词最多 100 个字"),
        ({"state": "drafty"}, "筛选条件“状态”无效"),
        ({"procedure": "' OR 1=1 --"}, "筛选条件“招标方式”无效"),
        ({"centre": "not-a-uuid"}, "筛选条件“交易中心”无效"),
        ({"page": "999999999999"}, "筛选条件“页码”无效"),
        ({"page": "-1"}, "筛选条件“页码”无效"),
    ):
        answer = await client.get("/", params=params, headers=HTML)
        assert answer.status_code == 400, (params, answer.status_code)
        assert message in answer.text, params
        assert "<form" in answer.text  # the list page itself, with its search form
    english = await client.get("/", params={"state": "x"}, headers={"accept-language": "en"})
    assert "The filter “State” is not valid" in english.text
    # LIKE's wildcards are characters in a search: "_" and "%" match only themselves.
    assert road.reference in (await client.get("/", params={"q": "道路_改造%"})).text
    only_literal = await client.get("/", params={"q": "%"})
    assert only_literal.status_code == 200
    assert "道路改造工程二期" not in only_literal.text
    # Markup in a search is shown as text, never as markup.
    injected = await client.get("/", params={"q": '"><script>alert(1)</script>'})
    assert injected.status_code == 200
    assert "<script>alert(1)" not in injected.text
    assert "&#34;&gt;&lt;script&gt;" in injected.text or "&quot;&gt;&lt;script&gt;" in injected.text
    # A control character is refused at the edge (400 problem), before any query runs.
    assert (await client.get("/", params={"q": "a\x00b"})).status_code == 400


async def test_register_from_the_tender_page_once(client, world, services) -> None:
    road = await tender(services, world, "浦东道路改造工程")
    path = f"/tenders/{road.reference}"
    anonymous = await client.get(path, headers=HTML)
    assert "以投标人身份登录后可报名" in anonymous.text
    assert 'id="register"' not in anonymous.text
    await sign_in(client, "bidder")
    page = await client.get(path, headers=HTML)
    assert 'id="register"' in page.text
    assert "北京时间" in page.text
    token = csrf_of(page.text)

    # Without its CSRF token the form is refused, and nothing is registered.
    forged = await client.post(f"{path}/register", data={}, headers=HTML, follow_redirects=False)
    assert forged.status_code == 403
    assert await count(services, Registration, tender_id=road.id) == 0

    done = await client.post(f"{path}/register", data={"_csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"{path}?notice=registered"
    shown = await client.get(done.headers["location"], headers=HTML)
    assert f"已为 {road.reference} 报名成功" in shown.text
    assert "贵公司已于" in shown.text
    assert 'id="register"' not in shown.text
    # Twice (a double click, a reloaded form): one registration, and the page says so.
    again = await client.post(f"{path}/register", data={"_csrf_token": token}, follow_redirects=False)
    assert again.headers["location"] == f"{path}?notice=already"
    assert "无需重复报名" in (await client.get(again.headers["location"], headers=HTML)).text
    assert await count(services, Registration, tender_id=road.id) == 1


async def test_registration_closed_at_the_deadline(client, world, services, clock) -> None:
    road = await tender(services, world, "浦东道路改造工程")
    clock.set(road.deadline_at + timedelta(seconds=1))
    # The API says the same to a bidder's token, in English on request.
    api = await client.post(
        f"/api/v1/tenders/{road.reference}/registrations",
        headers={**world.auth("bidder_other"), "accept-language": "en"},
    )
    assert api.status_code == 403
    assert api.json()["detail"] == f"Registration for {road.reference} is closed (the tender is closed)"
    await sign_in(client, "bidder")
    token = csrf_of((await client.get(f"/tenders/{road.reference}")).text)
    late = await client.post(f"/tenders/{road.reference}/register", data={"_csrf_token": token}, headers=HTML)
    assert late.status_code == 403
    assert f"项目 {road.reference} 的报名已截止（当前状态：已截标）" in late.text
    assert await count(services, Registration, tender_id=road.id) == 0
    page = await client.get(f"/tenders/{road.reference}", headers=HTML)
    assert 'id="register"' not in page.text


async def test_ask_a_clarification_from_the_page(client, world, services) -> None:
    road = await tender(services, world, "浦东道路改造工程")
    path = f"/tenders/{road.reference}"
    await sign_in(client, "bidder")
    page = await client.get(path, headers=HTML)
    assert "报名后可提问并查看答疑" in page.text
    token = csrf_of(page.text)
    # Not registered: refused, with what to do next.
    early = await client.post(
        f"{path}/clarifications", data={"_csrf_token": token, "question": "工期?"}, headers=HTML
    )
    assert early.status_code == 403
    assert f"请先为项目 {road.reference} 报名" in early.text
    await client.post(f"{path}/register", data={"_csrf_token": token})
    too_long = await client.post(
        f"{path}/clarifications", data={"_csrf_token": token, "question": "长" * 5001}, headers=HTML
    )
    assert too_long.status_code == 422
    blank = await client.post(f"{path}/clarifications", data={"_csrf_token": token, "question": "  "})
    assert blank.status_code == 422
    forged = await client.post(f"{path}/clarifications", data={"question": "无令牌"}, headers=HTML)
    assert forged.status_code == 403
    assert await count(services, Clarification, tender_id=road.id) == 0
    asked = await client.post(
        f"{path}/clarifications",
        data={"_csrf_token": token, "question": "<b>工期</b>能否延长？"},
        follow_redirects=False,
    )
    assert asked.status_code == 303
    shown = await client.get(asked.headers["location"], headers=HTML)
    assert "问题已提交" in shown.text
    assert "&lt;b&gt;工期&lt;/b&gt;能否延长？" in shown.text
    assert "（我的提问）" in shown.text
    assert await count(services, Clarification, tender_id=road.id) == 1


async def test_amendments_documents_and_the_current_deadline(client, world, services, clock) -> None:
    road = await tender(services, world, "浦东道路改造工程", publish=False)
    drawings = b"%PDF-1.4 drawings"
    upload = await client.post(
        f"/api/v1/tenders/{road.reference}/documents",
        files={"data": ("图纸.pdf", drawings, "application/pdf")},
        headers=world.auth("tenderer"),
    )
    assert upload.status_code == 201, upload.text
    deadline = clock.now() + timedelta(days=21)
    published = await client.post(
        f"/api/v1/tenders/{road.reference}/publish",
        json={"deadline": deadline.isoformat()},
        headers=world.auth("tenderer"),
    )
    assert published.status_code == 201, published.text
    new_deadline = deadline + timedelta(days=5)
    amended = await client.post(
        f"/api/v1/tenders/{road.reference}/amendments",
        json={
            "summary": "增加桥梁检测内容",
            "affects_preparation": True,
            "new_deadline": new_deadline.isoformat(),
        },
        headers=world.auth("tenderer"),
    )
    assert amended.status_code == 201, amended.text
    page = await client.get(f"/tenders/{road.reference}", headers=HTML)
    text = page.text
    assert "增加桥梁检测内容" in text
    shown = (new_deadline + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    current = re.search(r'id="deadline">(.*?)</dd>', text, re.S)
    assert current is not None
    assert f"{shown} 北京时间" in current.group(1)
    assert "已因修改调整" in current.group(1)
    link = re.search(
        r'href="(/api/v1/tenders/' + road.reference + r'/documents/[^"]+)" download>图纸.pdf', text
    )
    assert link is not None
    got = await client.get(link.group(1))
    assert got.status_code == 200
    assert got.content == drawings
    english = await client.get(f"/tenders/{road.reference}", headers={"accept-language": "en"})
    assert f"{shown} Beijing time" in english.text


async def test_a_drafts_reference_answers_as_one_that_names_nothing(client, world, services) -> None:
    draft = await tender(services, world, "保密草稿项目", who="tenderer_other", publish=False)
    unknown = draft.reference[:-4] + "9999"
    for prefix, headers in (("/api/v1/tenders/", {}), ("/tenders/", HTML)):
        for suffix in ("", "/amendments", "/sealing"):
            hidden = await client.get(
                f"{prefix}{draft.reference}{suffix}", headers={**headers, **world.auth("bidder")}
            )
            absent = await client.get(
                f"{prefix}{unknown}{suffix}", headers={**headers, **world.auth("bidder")}
            )
            assert hidden.status_code == absent.status_code, (prefix, suffix)
            assert hidden.status_code == 404
            assert "保密草稿项目" not in hidden.text
            assert hidden.text.replace(draft.reference, unknown) == absent.text
            assert str(draft.id) not in hidden.text
    await sign_in(client, "bidder")
    token = csrf_of((await client.get("/")).text)
    for ref in (draft.reference, unknown):
        refused = await client.post(f"/tenders/{ref}/register", data={"_csrf_token": token}, headers=HTML)
        assert refused.status_code == 404
    assert await count(services, Registration, tender_id=draft.id) == 0
    # Its owner reaches it by reference.
    own = await client.get(f"/api/v1/tenders/{draft.reference}", headers=world.auth("tenderer_other"))
    assert own.status_code == 200
    assert own.json()["id"] == str(draft.id)


async def test_unregistered_bidders_are_told_to_register_first(client, world, services) -> None:
    road = await tender(services, world, "浦东道路改造工程")
    asked = await client.post(
        f"/api/v1/tenders/{road.reference}/clarifications",
        json={"question": "工期？"},
        headers={**world.auth("bidder"), "accept-language": "en"},
    )
    assert asked.status_code == 403
    assert asked.json()["detail"].startswith(f"Register for {road.reference} first")
    assert asked.json()["code"] == "error.register_first"
    assert asked.json()["instance"] == f"/api/v1/tenders/{road.reference}/clarifications"
    # Someone who cannot register at all is not told to.
    staff = await client.post(
        f"/api/v1/tenders/{road.reference}/clarifications",
        json={"question": "?"},
        headers=world.auth("staff_far"),
    )
    assert staff.status_code == 403
    assert staff.json()["code"] == "error.forbidden_action"
