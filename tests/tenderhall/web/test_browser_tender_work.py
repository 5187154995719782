"""A bidder's tender work in a real browser (Debian's Chromium driven by Playwright), under the
pages' Content-Security-Policy: search the list, open a tender by its reference number, sign in,
register (报名), ask a clarification, and see it on the page; no CSP violation on the way."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from tenderhall.tenders.models import Clarification, Registration
from tests.conftest import PASSWORD
from tests.support.tenders import draft_tender
from tests.tenderhall.web import test_browser_csp as csp

pytestmark = csp.pytestmark
served = csp.served  # the app over real HTTP on loopback
browser = csp.browser  # headless Chromium
RUBRIC = {
    "price_method": "lowest_price",
    "items": [{"code": "P", "name": "价格", "kind": "price", "max_points": "100"}],
}


async def publish(services: Any, world: Any, title: str, centre: int) -> Any:
    async with services.transaction() as db:
        tender = await draft_tender(
            services,
            db,
            world.who("tenderer"),
            title=title,
            estimate_fen=800_000_00,
            tenderer_id=world.tenderers[0].id,
            centre_id=world.centres[centre].id,
            rubric=RUBRIC,
        )
        await services.tenders.publish(
            db, world.who("tenderer"), tender.id, services.clock.now() + timedelta(days=21)
        )
    return tender


async def test_search_open_register_and_ask(world, services, served, browser) -> None:
    road = await publish(services, world, "浦东大道综合改造工程", 0)
    await publish(services, world, "杭州学校食堂设备采购", 1)
    context = await browser.new_context(locale="zh-CN")
    await context.add_init_script(csp.WATCH_CSP)
    tab = csp.Watched(await context.new_page())
    page = tab.page

    # Search by name, then by reference number through the form.
    await tab.visit(served + "/")
    await page.fill("input[name=q]", "改造")
    async with page.expect_navigation():
        await page.click("form.filters button[type=submit]")
    rows = page.locator("tbody tr")
    assert await rows.count() == 1
    assert road.reference in await rows.first.inner_text()
    await tab.check("search by name")
    await page.select_option("select[name=centre]", label="杭州中心")
    await page.fill("input[name=q]", "")
    async with page.expect_navigation():
        await page.click("form.filters button[type=submit]")
    assert "杭州学校食堂设备采购" in await page.inner_text("tbody")
    assert road.reference not in await page.inner_text("tbody")
    await tab.visit(f"{served}/?q={road.reference}")
    await tab.check("search by reference")

    # Open it: its address names it by reference number; the deadline is in Beijing time.
    async with page.expect_navigation():
        await page.click(f"a:text('{road.reference}')")
    assert page.url.endswith(f"/tenders/{road.reference}")
    assert "北京时间" in await page.inner_text("#deadline")
    assert "以投标人身份登录后可报名" in await page.inner_text("#registration")
    await tab.check("tender, anonymous")

    # Sign in as a bidder and come back.
    await tab.visit(served + "/login")
    await page.fill("input[name=username]", "bidder")
    await page.fill("input[name=password]", PASSWORD)
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    await tab.visit(f"{served}/tenders/{road.reference}")
    assert "报名后可提问并查看答疑" in await page.inner_text("#clarifications")

    # Register (报名).
    async with page.expect_navigation():
        await page.click("#register")
    assert f"已为 {road.reference} 报名成功" in await page.inner_text("#notice")
    assert await page.locator("#register").count() == 0
    await tab.check("registered")

    # Ask a clarification; it shows on the page as the bidder's own.
    await page.fill("textarea[name=question]", "工期能否延长至 200 天？")
    async with page.expect_navigation():
        await page.click("#ask")
    assert "问题已提交" in await page.inner_text("#notice")
    qa = await page.inner_text("#clarifications")
    assert "Q1 工期能否延长至 200 天？" in qa
    assert "（我的提问）" in qa
    assert "待答复" in qa
    await tab.check("asked")
    await context.close()

    async with services.reader() as db:
        registrations = await db.scalar(
            select(func.count()).select_from(Registration).where(Registration.tender_id == road.id)
        )
        questions = await db.scalar(
            select(func.count()).select_from(Clarification).where(Clarification.tender_id == road.id)
        )
    assert (registrations, questions) == (1, 1)
