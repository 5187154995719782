"""Browser security headers on every answer, pages without inline script, and sign-in protected
against login CSRF (a forged sign-in would put the victim's browser in the attacker's account)."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tenderhall.app import create_app
from tests.bidding.helpers import make_scene, seal_and_submit
from tests.conftest import PASSWORD

HTML = {"accept": "text/html"}


def directives(policy: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def assert_browser_headers(response: Any, *, hsts: bool = False) -> None:
    where = f"{response.request.method} {response.request.url.path} → {response.status_code}"
    headers = response.headers
    assert "content-security-policy" in headers, where
    csp = directives(headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"], where
    assert csp["script-src"] == ["'self'"], where  # no 'unsafe-inline', no 'unsafe-eval', no CDN
    assert csp["style-src"] == ["'self'"], where
    assert csp["object-src"] == ["'none'"], where
    assert csp["base-uri"] == ["'none'"], where
    assert csp["form-action"] == ["'self'"], where
    assert csp["frame-ancestors"] == ["'none'"], where
    assert headers["x-content-type-options"] == "nosniff", where
    assert headers["referrer-policy"] == "same-origin", where
    assert headers["x-frame-options"] == "DENY", where
    assert ("strict-transport-security" in headers) is hsts, where


async def test_every_kind_of_answer_carries_the_headers(client, world) -> None:
    """Pages, API, static files, the API docs and errors, including those Litestar answers before
    any route matched (unknown path, wrong method) and those raised by middleware (CSRF)."""
    answers = [
        await client.get("/", headers=HTML),
        await client.get("/login", headers=HTML),
        await client.get("/ledger", headers=HTML),
        await client.get("/api/v1/tenders"),
        await client.get("/api/v1/auth/me", headers=world.auth("bidder")),
        await client.get("/healthz"),
        await client.get("/static/site.css"),
        await client.get("/static/hall.js"),  # a domain package's static folder
        await client.get("/api/docs"),
        await client.get("/api/docs/openapi.json"),
        await client.get(f"/tenders/{uuid.uuid4()}", headers=HTML),  # 404 as an HTML page
        await client.get("/no/such/path"),  # 404 before routing
        await client.delete("/static/site.css"),  # 405
        await client.get("/api/v1/auth/me"),  # 401 problem details
        await client.post("/login", data={"username": "x", "password": "y"}),  # 403 CSRF
        await client.get("/lang/en", follow_redirects=False),  # a redirect
    ]
    statuses = [r.status_code for r in answers]
    assert statuses == [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404, 405, 401, 403, 302]
    for response in answers:
        assert_browser_headers(response)


async def test_hsts_only_when_the_base_url_is_https(settings, clock) -> None:
    app = create_app(
        dataclasses.replace(settings, base_url="https://tenders.example.cn"), clock, sweeper=False
    )
    try:
        async with AsyncTestClient(app=app, base_url="https://tenders.example.cn") as secure:
            for response in (
                await secure.get("/"),
                await secure.get("/static/site.css"),
                await secure.get("/no/such/path"),
            ):
                assert_browser_headers(response, hsts=True)
                assert response.headers["strict-transport-security"] == "max-age=31536000"
    finally:
        await app.state.services.engine.dispose()


async def test_the_api_docs_need_nothing_from_another_origin(client) -> None:
    """Centres run isolated networks: Swagger UI comes from the server itself."""
    page = await client.get("/api/docs")
    assert page.status_code == 200
    urls = [u for u in re.findall(r'(?:src|href)="([^"]+)"', page.text) if u != "data:,"]  # no icon
    assert urls, page.text
    assert all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert_browser_headers(asset)
    assert "SwaggerUIBundle" in (await client.get("/static/swagger-ui/swagger-ui-bundle.js")).text
    assert 'data-spec-url="/api/docs/openapi.json"' in page.text
    assert (await client.get("/api/docs/openapi.json")).json()["info"]["title"] == "TenderHall API"


class InlineCode(HTMLParser):
    """Collects what a strict CSP would refuse: inline script (JSON ones too), event handler
    attributes, ``javascript:`` URLs, inline style."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower(): value or "" for name, value in attrs}
        if tag == "script" and "src" not in names:
            self.found.append(f"<script> without src: {attrs}")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in names.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name == "style":
                self.found.append(f"<{tag} style=…>")
            if name in ("href", "src", "action", "formaction") and value.strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}=javascript:…>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


def page_paths(app: Litestar, values: dict[str, str]) -> list[str]:
    """Every page route of the app (kernel and domain packages: the GET routes left out of the
    OpenAPI document, outside /api and /static) with its path parameters filled, and the API
    docs pages."""
    paths = []
    for route in app.routes:
        if route.path.startswith(("/api/", "/static")):
            continue
        handlers = [h for h in getattr(route, "route_handlers", []) if "GET" in h.http_methods]
        if not handlers or any(h.include_in_schema for h in handlers):
            continue
        path = route.path
        for name in re.findall(r"{(\w+):\w+}", path):
            assert name in values, f"the page walk needs a value for {{{name}}} ({route.path})"
            path = re.sub(rf"{{{name}:\w+}}", values[name], path)
        paths.append(path)
    docs = app.openapi_config
    assert docs is not None
    paths += [docs.path, *(docs.path + p for plugin in docs.render_plugins for p in plugin.paths)]
    return paths


async def test_no_page_carries_inline_script_or_handlers(client, app, world, services, clock) -> None:
    """Walk every page, as nobody and as each kind of participant, with a tender whose opening
    hall is running (so the hall page renders too), plus an error page."""
    scene = await make_scene(services, world, client, bidders=2)
    await seal_and_submit(client, scene, scene.bidders[0], "csp-0")
    clock.set(scene.deadline + timedelta(minutes=1))
    paths = page_paths(app, {"tender_id": str(scene.tender_id), "code": "en"})
    assert {"/", "/login", "/ledger", f"/tenders/{scene.tender_id}/hall", "/api/docs"} <= set(paths)
    readers = {
        "anonymous": {},
        "staff": world.auth("staff"),
        "bidder": scene.bidders[0].headers,
        "admin": world.auth("admin"),
    }
    rendered = 0
    for reader, headers in readers.items():
        for path in [*paths, f"/tenders/{uuid.uuid4()}"]:
            response = await client.get(path, headers={**HTML, **headers}, follow_redirects=False)
            if "text/html" in response.headers.get("content-type", ""):
                rendered += 1
                assert inline_code(response.text) == [], (reader, path)
            assert_browser_headers(response)
        hall = await client.get(f"/tenders/{scene.tender_id}/hall", headers={**HTML, **headers})
        assert (hall.status_code == 200) is (reader != "anonymous" and reader != "admin"), (reader, hall)
    assert rendered >= 4 * 6


def test_the_walk_sees_inline_code() -> None:
    assert inline_code('<script type="application/json">{}</script>') != []
    assert inline_code('<select onchange="this.form.submit()"></select>') != []
    assert inline_code('<p style="color:red">x</p><a href="JavaScript:alert(1)">x</a>') != []
    assert inline_code('<script src="/static/site.js" defer></script><p data-on="x">on=1</p>') == []


# -- login CSRF ---------------------------------------------------------------------------------------


def form_token(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


async def test_a_cross_site_sign_in_is_refused(client, world) -> None:
    """Another site's form posting the attacker's credentials to /login: no session yet, no CSRF
    cookie (SameSite=Lax keeps it off a cross-site POST) and no token of ours."""
    forged = await client.post(
        "/login",
        data={"username": "bidder", "password": PASSWORD},
        headers={**HTML, "origin": "https://evil.example", "sec-fetch-site": "cross-site"},
        follow_redirects=False,
    )
    assert forged.status_code == 403, forged.text
    assert "页面已过期，请刷新后重试" in forged.text  # the error page says what to do
    assert "th_session" not in forged.headers.get("set-cookie", "")
    # As problem details (a script posting the form) with the catalogue's key, in English too.
    problem = await client.post(
        "/login",
        data={"username": "bidder", "password": PASSWORD},
        headers={"accept-language": "en"},
    )
    assert problem.status_code == 403
    assert problem.headers["content-type"].startswith("application/problem+json")
    assert problem.json()["code"] == "error.csrf"
    assert "reload and try again" in problem.json()["detail"]
    # A token from another browser's form does not match this browser's cookie either.
    async with AsyncTestClient(app=client.app, base_url="http://testserver.local") as other:
        stolen = form_token((await other.get("/login")).text)
    client.cookies.clear()
    await client.get("/login")  # this browser's own CSRF cookie
    mismatched = await client.post(
        "/login",
        data={"username": "bidder", "password": PASSWORD, "_csrf_token": stolen + "x"},
        follow_redirects=False,
    )
    assert mismatched.status_code == 403


async def test_the_sign_in_form_works_with_its_token(client, world) -> None:
    form = await client.get("/login", headers=HTML)
    assert client.cookies.get("th_csrf")
    ok = await client.post(
        "/login",
        data={
            "username": "bidder",
            "password": PASSWORD,
            "_csrf_token": form_token(form.text),
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert ok.status_code in (302, 303), ok.text
    assert "th_session=" in ok.headers["set-cookie"]
    assert_browser_headers(ok)


async def test_the_api_sign_in_takes_only_json(client, world) -> None:
    """A cross-site form can post ``text/plain`` that reads as JSON; only a JSON body (which
    needs a CORS preflight this server never grants) opens a session through the API.  (Litestar
    already answered such bodies with a bare 400; the check makes it a rule with its reason.)"""
    body = b'{"username": "bidder", "password": PASSWORD}'
    for media_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        forged = await client.post(
            "/api/v1/auth/login", content=body, headers={"content-type": media_type, "accept-language": "en"}
        )
        assert forged.status_code == 403, (media_type, forged.text)
        assert forged.json()["code"] == "error.csrf_sign_in_json"
        assert "as JSON" in forged.json()["detail"]
        assert "th_session" not in forged.headers.get("set-cookie", "")
    zh = await client.post("/api/v1/auth/login", content=body, headers={"content-type": "text/plain"})
    assert "登录" in zh.json()["detail"]
    ok = await client.post("/api/v1/auth/login", json={"username": "bidder", "password": PASSWORD})
    assert ok.status_code == 201, ok.text
    assert "th_session=" in ok.headers["set-cookie"]
