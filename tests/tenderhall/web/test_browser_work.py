"""The "my work" page in a real browser (Debian's Chromium driven by Playwright) on the seeded
demo: anonymous visitors go to sign-in; an agent signs in by keyboard alone, lands on its work,
reaches its first item with Tab; a 5,000-character question does not widen the page on a laptop
or a tablet; centre staff see their own centre's work and no other's; no CSP violation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tenderhall.app import create_app
from tenderhall.auth.models import User
from tenderhall.auth.service import subject_of
from tenderhall.clock import SystemClock
from tenderhall.demo import DEMO_PASSWORD
from tenderhall.tenders.models import Registration, Tender
from tests.support.browser import serve
from tests.tenderhall.web.conftest import Demo
from tests.tenderhall.web.test_browser_csp import (
    CHROMIUM,
    WATCH_CSP,
    Watched,
    browser,  # noqa: F401 - the fixture
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed (/usr/bin/chromium)"),
]
LAPTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}
LONG_QUESTION = "投标保证金" + "长" * 4990 + "？"  # 5,000 characters, no space to break at


async def _ask_a_long_question(app: Any) -> str:
    """A bidder registered for agent1's open tender asks a 5,000-character question; returns
    the tender's reference."""
    services = app.state.services
    async with services.transaction() as db:
        agent = await db.scalar(select(User).where(User.username == "agent1"))
        assert agent is not None
        tender = await db.scalar(
            select(Tender).where(Tender.agency_id == agent.organisation_id, Tender.state == "published")
        )
        assert tender is not None
        company = await db.scalar(select(Registration.company_id).where(Registration.tender_id == tender.id))
        bidder = await db.scalar(select(User).where(User.company_id == company))
        assert bidder is not None
        await services.clarifications.ask(db, subject_of(bidder), tender.id, LONG_QUESTION)
        return str(tender.reference)


@pytest.fixture
def served_demo(demo: Demo, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """A copy of the seeded demo served over real HTTP in a thread, with its app."""
    with demo.copy(tmp_path) as url:
        app = create_app(demo.settings(url), SystemClock(), sweeper=False)
        with serve(app) as origin:
            yield origin, app


async def _overflow(page: Any) -> int:
    """How far the page is wider than the window (0: it is not)."""
    return int(
        await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


async def test_two_roles_find_their_work_in_the_browser(served_demo, browser) -> None:  # noqa: F811
    served, app = served_demo
    reference = await _ask_a_long_question(app)

    context = await browser.new_context(locale="zh-CN", viewport=LAPTOP)
    await context.add_init_script(WATCH_CSP)
    tab = Watched(await context.new_page())
    page = tab.page

    # Anonymous: the work page sends the visitor to sign in.
    await tab.visit(served + "/work")
    assert page.url.endswith("/login")

    # The agent signs in by keyboard alone and lands on its work.
    await page.focus("input[name=username]")
    await page.keyboard.type("agent1")
    await page.keyboard.press("Tab")
    await page.keyboard.type(DEMO_PASSWORD)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert page.url.endswith("/work")
    item = page.locator('.work-item[data-kind="owner.clarifications"]')
    assert await item.count() == 1
    assert reference in await item.inner_text()
    assert "北京时间" in await item.inner_text()
    # The question is quoted (shortened) and wraps: no sideways scrolling on a laptop or a tablet.
    assert await _overflow(page) == 0
    await page.set_viewport_size(TABLET)
    assert await _overflow(page) == 0
    box = await item.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= TABLET["width"]
    await tab.check("agent's work")

    # Tab reaches the first item's link, and Enter follows it.
    for _ in range(40):
        await page.keyboard.press("Tab")
        if await page.evaluate("!!document.activeElement.closest('.work-item')"):
            break
    else:
        pytest.fail("the keyboard never reached a work item")
    target = await page.evaluate("document.activeElement.getAttribute('href')")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert page.url.endswith(target)
    await context.close()

    # Centre staff in Shanghai: their centre's dashboard and alerts, nothing of Hangzhou or Nanjing.
    context = await browser.new_context(locale="zh-CN", viewport=TABLET)
    await context.add_init_script(WATCH_CSP)
    tab = Watched(await context.new_page())
    await tab.visit(served + "/login")
    await tab.page.fill("input[name=username]", "staff.sh")
    await tab.page.fill("input[name=password]", DEMO_PASSWORD)
    async with tab.page.expect_navigation():
        await tab.page.click("button[type=submit]")
    assert tab.page.url.endswith("/work")
    kinds = await tab.page.eval_on_selector_all(".work-item", "items => items.map(i => i.dataset.kind)")
    assert {"centre.opening", "centre.closed", "alert.assigned", "centre.published_questions"} <= set(kinds)
    references = await tab.page.eval_on_selector_all(
        ".work-item .ref", "refs => refs.map(r => r.textContent)"
    )
    assert references
    assert all(r.startswith("SH-") for r in references), references
    assert await _overflow(tab.page) == 0
    await tab.check("staff's work")
    await context.close()
