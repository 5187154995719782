"""Browser pages: Chinese first, English on request, sign-in with CSRF, no leaks of drafts."""

from __future__ import annotations

import re

from tenderhall.tenders.service import TenderDraft

RUBRIC = {
    "price_method": "lowest_price",
    "items": [
        {"code": "T1", "name": "技术方案", "kind": "technical", "max_points": "70"},
        {"code": "P", "name": "价格", "kind": "price", "max_points": "30"},
    ],
}


def csrf_of(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


async def test_home_page_in_both_languages(client, world) -> None:
    zh = await client.get("/", headers={"accept": "text/html"})
    assert zh.status_code == 200
    assert "招标项目" in zh.text
    assert 'lang="zh-CN"' in zh.text
    en = await client.get("/", headers={"accept-language": "en-GB,en;q=0.9"})
    assert "Tenders" in en.text
    assert 'lang="en"' in en.text
    switched = await client.get("/lang/en", headers={"referer": "/ledger"}, follow_redirects=False)
    assert switched.status_code in (302, 303)
    assert "th_lang=en" in switched.headers["set-cookie"]


async def test_sign_in_needs_the_csrf_token_and_the_right_password(client, world) -> None:
    form = await client.get("/login")
    token = csrf_of(form.text)
    missing = await client.post(
        "/login",
        data={"username": "admin", "password": "correct-horse-battery"},
        headers={"accept": "text/html", "cookie": "th_session=forged"},
    )
    assert missing.status_code == 403
    wrong = await client.post(
        "/login",
        data={"username": "admin", "password": "nope", "_csrf_token": token},
        headers={"accept": "text/html"},
    )
    assert wrong.status_code == 401
    assert "用户名或密码错误" in wrong.text
    ok = await client.post(
        "/login",
        data={"username": "admin", "password": "correct-horse-battery", "_csrf_token": token},
        follow_redirects=False,
    )
    assert ok.status_code in (302, 303), ok.text
    cookie = ok.headers["set-cookie"]
    assert "th_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie.replace("Lax", "lax")
    home = await client.get("/")
    assert "admin" in home.text
    assert "平台管理员" in home.text
    # Signed in by cookie, an unsafe API call without the CSRF header is refused ...
    refused = await client.post("/api/v1/auth/tokens", json={"name": "x"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "error.csrf"
    # ... and accepted with it.
    accepted = await client.post(
        "/api/v1/auth/tokens", json={"name": "x"}, headers={"x-csrf-token": client.cookies.get("th_csrf")}
    )
    assert accepted.status_code == 201
    assert accepted.json()["token"].startswith("tht_")
    out = await client.post("/logout", data={"_csrf_token": csrf_of(home.text)}, follow_redirects=False)
    assert out.status_code in (302, 303)
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_tender_pages_show_notices_but_never_drafts(client, world, services, clock) -> None:
    async with services.transaction() as db:
        draft = await services.tenders.create(
            db,
            world.who("tenderer"),
            TenderDraft(
                title="保密草稿项目",
                procedure="open_tender",
                estimate_fen=100_00,
                tenderer_id=world.tenderers[0].id,
                centre_id=world.centres[0].id,
                rubric=RUBRIC,
            ),
        )
    notice = await client.get(f"/tenders/{draft.id}", headers={"accept": "text/html"})
    assert notice.status_code == 404
    assert "保密草稿项目" not in notice.text
    assert "<html" in notice.text
    listing = await client.get("/")
    assert "保密草稿项目" not in listing.text
    ledger = await client.get("/ledger")
    assert ledger.status_code == 200
    assert "— testserver.local/tenderhall/ledger" in ledger.text
