"""The pages under their Content-Security-Policy in a real browser (Debian's Chromium driven by
Playwright): no violation reported on the main pages, and the scripts still work — the home
page's filter, sign-in, the opening hall kept live by its events, the API docs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tenderhall.app import create_app
from tests.bidding.helpers import file_key_b64, make_scene, seal_and_submit
from tests.conftest import PASSWORD
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, needs_chromium, serve

# Every violation the page reports, whether or not the browser also logs it.
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = e.sourceFile + ":" + e.lineNumber;
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + where);
});
"""

pytestmark = needs_chromium


@pytest.fixture
def served(settings: Any, clock: Any) -> Iterator[str]:
    """A second app on the test database and clock, served over real HTTP in a thread."""
    with serve(create_app(settings, clock, sweeper=False)) as origin:
        yield origin


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


class Watched:
    """A browser page whose console errors, script errors and CSP violations are collected."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))

    def _console(self, message: Any) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(f"console {message.type}: {message.text}")

    async def visit(self, url: str) -> Any:
        response = await self.page.goto(url, wait_until="load")
        assert response is not None
        assert response.status == 200, (url, response.status)
        assert "frame-ancestors 'none'" in (await response.all_headers())["content-security-policy"]
        return response

    async def check(self, where: str) -> None:
        violations = await self.page.evaluate("window.__csp || []")
        assert violations == [], (where, violations)
        assert self.problems == [], (where, self.problems)


async def test_main_pages_run_under_the_policy(client, world, services, clock, served, browser) -> None:
    scene = await make_scene(services, world, client, bidders=2)
    blob = await seal_and_submit(client, scene, scene.bidders[0], "csp-0")
    await seal_and_submit(client, scene, scene.bidders[1], "csp-1")
    clock.set(scene.deadline + timedelta(minutes=1))

    context = await browser.new_context(locale="zh-CN")
    await context.add_init_script(WATCH_CSP)
    tab = Watched(await context.new_page())

    # Home: the state filter submits itself (site.js, no inline handler).
    await tab.visit(served + "/")
    await tab.check("home")
    async with tab.page.expect_navigation():
        await tab.page.select_option("select[name=state]", "closed")
    assert tab.page.url.endswith("/?state=closed")
    await tab.check("home, filtered")

    # Sign-in through the form (its CSRF token comes with the page).
    await tab.visit(served + "/login")
    await tab.check("login")
    await tab.page.fill("input[name=username]", "staff")
    await tab.page.fill("input[name=password]", PASSWORD)
    async with tab.page.expect_navigation():
        await tab.page.click("button[type=submit]")
    assert "staff" in await tab.page.inner_text("header")
    await tab.check("signed in")

    await tab.visit(f"{served}/tenders/{scene.tender_id}")
    await tab.check("tender")

    # The hall: hall.js reads its snapshot from the page and renders it, then follows the
    # server-sent events (connect-src is 'self').
    await tab.visit(f"{served}/tenders/{scene.tender_id}/hall")
    await tab.page.wait_for_function("document.getElementById('hall-phase').textContent.length > 0")
    assert "投标人解密" in await tab.page.inner_text("#hall-phase")
    assert await tab.page.locator("#hall-bids tbody tr").count() == 2
    key = {"file_key": file_key_b64(blob, scene.bidders[0].keys.opening)}
    async with httpx.AsyncClient(base_url=served) as api:
        await asyncio.sleep(0.5)  # let the page's event stream subscribe
        answer = await api.post(
            f"/api/v1/tenders/{scene.tender_id}/hall/bids/csp-0/key",
            json=key,
            headers=scene.bidders[0].headers,
        )
        assert answer.status_code == 201, answer.text
    await tab.page.wait_for_function(
        "document.getElementById('hall-live').textContent.startsWith('●')", timeout=10_000
    )
    await tab.check("hall")

    # The API docs: Swagger UI from the server itself renders the document.
    await tab.visit(served + "/api/docs")
    await tab.page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert "TenderHall API" in await tab.page.inner_text(".swagger-ui .info .title")
    await tab.check("api docs")
    await context.close()
