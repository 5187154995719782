"""The command line loads a domain's commands only when they run: a bidder's `tenderhall bid ...`
never imports the web app, the database layer or the collusion detector, and loads the client's own
heavy parts (HTTP, cryptography, progress bars) only in the commands that use them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from bidding.client.cli import bid
from tenderhall.cli import load_lazy
from tenderhall.compose import domain_plugins

HEAVY = ("litestar", "sqlalchemy", "advanced_alchemy", "networkx", "scipy", "numpy", "sklearn", "weasyprint")
CLIENT = ("httpx", "cryptography", "rich")

# Runs `tenderhall` once per argument list given (as JSON) in one process, then prints every
# top-level package it imported.
PROBE = """
import json, sys
from tenderhall.cli import main
for args in json.loads(sys.argv[1]):
    try:
        main(args)
    except SystemExit:
        pass
sys.stdout = sys.__stdout__
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _loaded(*invocations: list[str]) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(invocations)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [["--help"], ["bid", "--help"], ["release-share", "--help"]])
def test_light_commands_do_not_load_the_platform_or_the_client_machinery(args: list[str]) -> None:
    assert sorted(_loaded(args) & {*HEAVY, *CLIENT}) == []


def _paths(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[list[str]]:
    for name, command in group.commands.items():
        yield [*prefix, name]
        if isinstance(command, click.Group):
            yield from _paths(command, (*prefix, name))


def test_no_bidder_or_custodian_command_loads_the_client_machinery_for_its_help() -> None:
    helps = [["bid", *path, "--help"] for path in _paths(bid)]
    assert ["bid", "receipt", "verify", "--help"] in helps  # the nested groups are walked too
    assert ["bid", "custodian-register", "--help"] in helps
    assert sorted(_loaded(*helps) & {*HEAVY, *CLIENT}) == []


def test_offline_commands_load_only_what_they_use(tmp_path: Path) -> None:
    keys = ["bid", "--home", str(tmp_path / "home"), "--keys", str(tmp_path / "keys")]
    assert sorted(_loaded([*keys, "keygen"]) & {*HEAVY, *CLIENT}) == ["cryptography"]
    assert (tmp_path / "keys" / "opening.key").exists()

    form = tmp_path / "form.json"
    form.write_text(
        json.dumps({"price": "900000", "duration_days": 200, "quality": "合格", "project_manager": "李工"}),
        encoding="utf-8",
    )
    (tmp_path / "技术标.txt").write_text("施工组织设计\n", encoding="utf-8")
    out = tmp_path / "bid.zip"
    pack = ["bid", "pack", "--form", str(form), "--out", str(out), str(tmp_path / "技术标.txt")]
    assert sorted(_loaded(pack) & {*HEAVY, *CLIENT}) == []
    assert out.stat().st_size > 0


def test_the_draw_verifier_loads_only_its_arithmetic() -> None:
    # numpy does the draw's arithmetic; the web app and the database stay out.
    assert sorted(_loaded(["draw", "--help"]) & set(HEAVY)) == ["numpy"]


def test_root_help_lists_every_domain_command_with_its_own_short_help() -> None:
    for plugin in domain_plugins():
        for name, (target, short_help) in plugin.CLI_COMMANDS.items():
            command = load_lazy(target)
            # The declared line is the command's own first help line, so the list cannot drift.
            assert command.help is not None
            assert command.help.strip().splitlines()[0] == short_help, name
            assert isinstance(command, click.Command)


def test_the_lazy_commands_run(run_cli, tmp_path) -> None:
    result = run_cli(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "--help")
    for name in ("bid", "release-share", "draw", "collusion", "backup", "ledger"):
        assert f"  {name} " in result.stdout
    collusion = run_cli(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "collusion", "--help")
    for sub in ("score", "import", "train", "benchmark"):
        assert f"  {sub} " in collusion.stdout
