"""Large inputs are sealed as a stream: a file chosen in the page is read chunk by chunk
(File.stream()), so the renderer's memory high-water mark grows by far less than the file, and
the envelope downloaded from the page opens with the Python codec and pyrage."""

from __future__ import annotations

import hashlib
import io
import os
import time
from pathlib import Path

import pytest

from bidding.envelope import X25519Identity, check_structure, open_with_identity, parse_header
from tests.frontend.conftest import Page
from tests.frontend.test_envelope_interop import BID, custodians, sealing

pyrage = pytest.importorskip("pyrage")

MiB = 1024 * 1024
CHOOSE = """
const input = document.createElement("input");
input.type = "file";
input.id = "document";
document.body.append(input);
"""
# Seal the chosen file into a sink that only counts (nothing kept), as an upload would consume it.
SEAL_TO_COUNTER = """
const file = document.getElementById("document").files[0];
const stream = await env.seal(file, a.sealing, a.bid, a.recipient);
let written = 0;
const started = performance.now();
await stream.pipeTo(new WritableStream({ write(chunk) { written += chunk.length; } }));
return { written, expected: stream.size(file.size), ms: performance.now() - started };
"""
SEAL_TO_DOWNLOAD = """
const file = document.getElementById("document").files[0];
const stream = await env.seal(file, a.sealing, a.bid, a.recipient);
const url = URL.createObjectURL(await new Response(stream).blob());
const link = document.createElement("a");
link.href = url;
link.download = "bid.age";
document.body.append(link);
link.click();
"""


def _renderer_peaks(page: Page) -> dict[int, int]:
    """VmHWM (kB) of each renderer process of this page's browser."""
    session = page.page.context.browser.new_browser_cdp_session()
    try:
        processes = session.send("SystemInfo.getProcessInfo")["processInfo"]
    finally:
        session.detach()
    peaks = {}
    for process in processes:
        if process["type"] == "renderer":
            status = Path(f"/proc/{process['id']}/status").read_text()
            peaks[process["id"]] = int(
                next(x for x in status.splitlines() if x.startswith("VmHWM:")).split()[1]
            )
    return peaks


def _choose(page: Page, path: Path) -> None:
    page.run("document.getElementById('document')?.remove();" + CHOOSE)
    page.page.set_input_files("#document", str(path))


def _seal_file(page: Page, path: Path, recipient: str) -> float:
    """Seal the chosen file into the counting sink; returns the renderer's peak growth in MiB."""
    before = _renderer_peaks(page)
    started = time.monotonic()
    result = page.run(
        SEAL_TO_COUNTER, {"sealing": sealing(custodians(3), 2), "bid": BID, "recipient": recipient}
    )
    elapsed = time.monotonic() - started
    after = _renderer_peaks(page)
    assert result["written"] == result["expected"]
    size = path.stat().st_size
    assert result["written"] > size
    growth = max(after[pid] - before.get(pid, 0) for pid in after) / 1024
    rate = size / MiB / elapsed
    print(f"sealed {size / MiB:.0f} MiB in {elapsed:.2f} s ({rate:.0f} MiB/s); peak +{growth:.0f} MiB")
    return growth


def test_a_large_file_is_sealed_in_flat_memory(browser_page: Page, tmp_path: Path) -> None:
    """A file four times larger adds next to nothing to the peak the smaller one reached (garbage
    64 KiB chunks are collected lazily, so the first peak is not zero, but it does not scale)."""
    recipient = str(X25519Identity.generate().recipient)
    growths = []
    for size in (32 * MiB, 128 * MiB):
        path = tmp_path / f"scan-{size}.pdf"
        with path.open("wb") as out:
            for _ in range(size // MiB):
                out.write(os.urandom(MiB))
        _choose(browser_page, path)
        growths.append(_seal_file(browser_page, path, recipient))
        path.unlink()
    assert growths[0] < 96, growths
    assert growths[1] < 32, growths


def test_a_chosen_file_sealed_and_downloaded_opens_in_python(browser_page: Page, tmp_path: Path) -> None:
    size = 8 * MiB + 12345
    path = tmp_path / "bid.zip"
    plain = os.urandom(size)
    path.write_bytes(plain)
    bidder = X25519Identity.generate()
    parties = custodians(2)
    _choose(browser_page, path)
    with browser_page.page.expect_download() as download:
        browser_page.run(
            SEAL_TO_DOWNLOAD, {"sealing": sealing(parties, 2), "bid": BID, "recipient": str(bidder.recipient)}
        )
    saved = tmp_path / "bid.age"
    download.value.save_as(saved)
    with saved.open("rb") as envelope:
        header, _ = parse_header(envelope)
    check_structure(header, custodian_ids=[cid for cid, _ in parties], k=2)
    opened = io.BytesIO()
    with saved.open("rb") as envelope:
        assert open_with_identity(envelope, opened, [bidder]) == size
    assert hashlib.sha256(opened.getvalue()).digest() == hashlib.sha256(plain).digest()
    assert pyrage.decrypt(saved.read_bytes(), [pyrage.x25519.Identity.from_str(str(bidder))]) == plain
