"""The browser's envelope modules (frontend/src, built into bidding/static/bundle/) loaded by
Debian's Chromium from the real app, under its Content-Security-Policy: one server and one
browser page for a whole test module."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tenderhall.app import create_app
from tenderhall.clock import FixedClock
from tests.conftest import T0, make_settings, migrated_database
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, serve

BUNDLE = Path(__file__).resolve().parents[2] / "bidding" / "static" / "bundle" / "envelope.js"
BUNDLE_URL = "/static/bundle/envelope.js"


@pytest.fixture(scope="module")
def origin(templates: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a fresh copy of the first backend's template, served over HTTP."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (/usr/bin/chromium); scripts/bootstrap.sh installs it")
    if not BUNDLE.exists():
        pytest.fail(f"{BUNDLE} is missing: scripts/bootstrap.sh builds it (npm run build in frontend/)")
    root = tmp_path_factory.mktemp("frontend")
    backend = next(iter(templates))
    with migrated_database(backend, templates, root / "test.db") as url:
        settings = make_settings(url, root)
        with serve(create_app(settings, FixedClock(T0), sweeper=False)) as served:
            yield served


class Page:
    """A Chromium page on the app's sign-in page (strict CSP) that imports the bundle."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def run(self, body: str, args: Any = None) -> Any:
        """Run ``body`` (an async function body) with ``env`` (the bundle), ``a`` (``args``),
        ``bytes(b64)``, ``b64(u8)`` and ``collect(stream)`` in scope."""
        script = (
            "async (a) => {"
            f" const env = await import({json.dumps(BUNDLE_URL)});"
            " const bytes = (s) => Uint8Array.fromBase64(s);"
            " const b64 = (u) => new Uint8Array(u).toBase64();"
            " const collect = async (s) => new Uint8Array(await new Response(s).arrayBuffer());"
            f" {body} }}"
        )
        return self.page.evaluate(script, args)

    def error(self, body: str, args: Any = None) -> str:
        """The message of what ``body`` throws (it must throw)."""
        caught = f"try {{ {body} }} catch (e) {{ return 'thrown: ' + e.message; }} return 'no error';"
        message = self.run(caught, args)
        assert isinstance(message, str)
        assert message.startswith("thrown: "), message
        return message.removeprefix("thrown: ")


@pytest.fixture(scope="module")
def browser_page(origin: str) -> Iterator[Page]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, "--enable-precise-memory-info"]
        )
        try:
            page = chromium.new_context(locale="zh-CN").new_page()
            response = page.goto(origin + "/login", wait_until="load")
            assert response is not None
            assert response.status == 200
            assert "script-src 'self'" in response.all_headers()["content-security-policy"]
            yield Page(page)
        finally:
            chromium.close()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
