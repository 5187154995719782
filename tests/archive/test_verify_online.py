"""`archive verify --online`: against a running platform (`tenderhall serve`) for the ledger's
latest checkpoint, and against a published OCDS record reached through the URL template."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from archive.evidence import ATTACHMENT
from archive.signing import ArchiveSigning, sign_archive
from tenderhall.services import Services
from tests.archive.conftest import OCDS_RECORD, ocds_bytes, tender_events, write
from tests.archive.test_verify import _evidence
from tests.tenderhall.test_serve import free_port, wait_healthy


@pytest.fixture
def publisher() -> Iterator[tuple[str, dict[str, bytes]]]:
    """A loopback HTTP server answering GET /<name> with ``pages[name]`` (404 otherwise)."""
    pages: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path.lstrip("/"))
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", pages
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
async def test_online_checks_against_the_running_platform(
    services: Services,
    make_pdf: Any,
    run_cli: Any,
    spawn_cli: Any,
    database_url: str,
    tmp_path: Path,
    publisher: tuple[str, dict[str, bytes]],
) -> None:
    tender = await tender_events(services)
    pdf = make_pdf({ATTACHMENT: await _evidence(services, tender), "ocds-record.json": ocds_bytes()})
    path = write(tmp_path, "archive.pdf", sign_archive(pdf, services.get(ArchiveSigning).signer))
    await tender_events(services)  # the ledger grows after the archive was made
    port = free_port()
    proc = spawn_cli(database_url, "serve", "--port", str(port), "--workers", "1", "--no-migrate")
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, proc)
    published, pages = publisher
    pages[f"{OCDS_RECORD['ocid']}.json"] = json.dumps({"records": [OCDS_RECORD]}).encode()
    template = published + "/{ocid}.json"
    env = {"TENDERHALL_LANG": "en"}
    result = run_cli(
        database_url, "archive", "verify", str(path), "--online", base, "--ocds-url", template, extra_env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[PASS] Consistency with the platform's ledger: the attached checkpoint (10) is a prefix" in (
        result.stdout
    )
    assert "signed by the platform's ledger key" in result.stdout
    assert "[PASS] OCDS record: the attached OCDS record equals the published record" in result.stdout

    # The published record changed since: the OCDS check fails, naming the field.
    changed = {**OCDS_RECORD, "compiledRelease": {"ocid": OCDS_RECORD["ocid"], "tender": {"title": "改"}}}
    pages[f"{OCDS_RECORD['ocid']}.json"] = json.dumps(changed).encode()
    result = run_cli(
        database_url, "archive", "verify", str(path), "--online", base, "--ocds-url", template, extra_env=env
    )
    assert result.returncode == 1
    assert "[FAIL] OCDS record: the attached OCDS record differs" in result.stdout
    assert "(fields: compiledRelease)" in result.stdout

    # Nothing published there at all: a clear failure, not a crash.
    pages.clear()
    result = run_cli(
        database_url, "archive", "verify", str(path), "--online", base, "--ocds-url", template, extra_env=env
    )
    assert result.returncode == 1
    assert "[FAIL] OCDS record: the platform could not be asked" in result.stdout
    assert "HTTP 404" in result.stdout
