"""The real server: `tenderhall serve` under uvicorn; several workers share state on PostgreSQL."""

from __future__ import annotations

import socket
import subprocess
import time

import httpx
import pytest

PASSWORD = "serve-test-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(base: str, proc: subprocess.Popen[str], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"server exited early: {output}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("server did not become healthy")


def test_sqlite_refuses_several_workers(run_cli, tmp_path) -> None:
    result = run_cli(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "serve", "--workers", "2")
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: several workers need PostgreSQL: set TENDERHALL_DATABASE_URL"


@pytest.mark.slow
def test_serve_answers_and_workers_share_sessions(database_url, run_cli, spawn_cli) -> None:
    cheap = {"TENDERHALL_ARGON2_TIME_COST": "1", "TENDERHALL_ARGON2_MEMORY_KIB": "1024"}
    made = run_cli(
        database_url,
        "users",
        "create",
        "--username",
        "ops",
        "--role",
        "admin",
        "--display-name",
        "运维",
        "--password",
        PASSWORD,
        extra_env=cheap,
    )
    assert made.returncode == 0, made.stderr
    workers = "1" if database_url.startswith("sqlite") else "2"
    port = free_port()
    proc = spawn_cli(
        database_url, "serve", "--port", str(port), "--workers", workers, "--no-migrate", extra_env=cheap
    )
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, proc)
    with httpx.Client(base_url=base, timeout=10) as http:
        login = http.post("/api/v1/auth/login", json={"username": "ops", "password": PASSWORD})
        assert login.status_code == 201, login.text
        # Sessions live in the database: every worker recognises the cookie.
        for _ in range(12):
            me = http.get("/api/v1/auth/me")
            assert me.status_code == 200
            assert me.json()["username"] == "ops"
        # With the session cookie, an unsafe request needs the CSRF token; a fresh client has no
        # ambient authority and exchanges the password for an API token.
        assert http.post("/api/v1/auth/tokens", json={"name": "t"}).status_code == 403
        token = httpx.post(
            f"{base}/api/v1/auth/token", json={"username": "ops", "password": PASSWORD, "name": "t"}
        )
        assert token.status_code == 201, token.text
        bearer = {"Authorization": f"Bearer {token.json()['token']}"}
        docs = http.get("/api/docs/openapi.json")
        assert docs.status_code == 200
        assert docs.json()["openapi"].startswith("3.1")
        page = http.get("/", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert "TenderHall" in page.text
        assert httpx.get(f"{base}/api/v1/auth/me", headers=bearer).status_code == 200
