"""The command line: help everywhere, one-line errors, accounts, demo data."""

from __future__ import annotations

import pytest

COMMANDS = [
    [],
    ["db"],
    ["db", "upgrade"],
    ["db", "downgrade"],
    ["db", "current"],
    ["db", "check"],
    ["serve"],
    ["demo"],
    ["users"],
    ["users", "create"],
    ["ledger"],
    ["ledger", "verify"],
    ["ledger", "checkpoint"],
    ["backup"],
    ["restore"],
    ["check"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_every_command_has_help(run_cli, tmp_path, command: list[str]) -> None:
    result = run_cli(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", *command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert len(result.stdout.splitlines()) > 3


def test_unreachable_database_is_one_line(run_cli) -> None:
    result = run_cli("postgresql://nobody@127.0.0.1:1/none", "db", "upgrade")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: cannot reach the database")


def test_bad_setting_is_one_line(run_cli, tmp_path) -> None:
    result = run_cli("mysql://x/y", "db", "upgrade")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: TENDERHALL_DATABASE_URL must be a sqlite+aiosqlite:// or postgresql:// URL"
    ]


def test_users_create_and_its_errors(database_url, run_cli, tmp_path) -> None:
    ok = run_cli(
        database_url,
        "users",
        "create",
        "--username",
        "root.admin",
        "--role",
        "admin",
        "--display-name",
        "管理员",
        "--password",
        "a-long-enough-password",
    )
    assert ok.returncode == 0, ok.stderr
    assert "created admin root.admin" in ok.stdout
    again = run_cli(
        database_url,
        "users",
        "create",
        "--username",
        "root.admin",
        "--role",
        "admin",
        "--display-name",
        "管理员",
        "--password",
        "a-long-enough-password",
    )
    assert again.returncode == 1
    assert again.stderr.strip() == "error: The username root.admin is taken"
    short = run_cli(
        database_url,
        "users",
        "create",
        "--username",
        "x.y.z",
        "--role",
        "staff",
        "--display-name",
        "x",
        "--password",
        "short",
    )
    assert short.returncode == 1
    assert "at least 10" in short.stderr
    prompted = run_cli(
        database_url,
        "users",
        "create",
        "--username",
        "second",
        "--role",
        "admin",
        "--display-name",
        "二号",
        stdin="another-password-1\nanother-password-1\n",
    )
    assert prompted.returncode == 0, prompted.stderr


@pytest.mark.slow
def test_demo_seeds_every_role_and_a_verifiable_ledger(empty_database_url, run_cli, tmp_path) -> None:
    cheap = {"TENDERHALL_ARGON2_TIME_COST": "1", "TENDERHALL_ARGON2_MEMORY_KIB": "1024"}
    seeded = run_cli(empty_database_url, "demo", extra_env=cheap)
    assert seeded.returncode == 0, seeded.stderr
    for role in ("admin", "staff", "supervisor", "tenderer", "agent", "bidder", "custodian", "expert"):
        assert f"  {role}" in seeded.stdout
    assert "Demo-2026-tenderhall" in seeded.stdout
    # The banner points at what the demo shows: live halls and the collusion alerts.
    assert seeded.stdout.count("/hall  (as staff.sh)") == 2
    assert "/api/v1/collusion/alerts" in seeded.stdout
    # Every demo bid is accepted: no upload's partial file (nor any other empty file) stays behind.
    data = tmp_path / "data"
    assert [p for p in data.rglob("*") if p.is_file() and p.stat().st_size == 0] == []
    verified = run_cli(empty_database_url, "ledger", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "ledger OK" in verified.stdout
    twice = run_cli(empty_database_url, "demo", extra_env=cheap)
    assert twice.returncode == 1
    assert "not empty" in twice.stderr
