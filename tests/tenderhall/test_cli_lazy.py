"""The command line loads a domain's commands only when they run: a bidder's `tenderhall bid ...`
never imports the web app, the database layer or the collusion detector."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

from tenderhall.cli import load_lazy
from tenderhall.compose import domain_plugins

HEAVY = ("litestar", "sqlalchemy", "advanced_alchemy", "networkx", "scipy", "numpy", "sklearn", "weasyprint")

PROBE = """
import json, sys
from tenderhall.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
sys.stdout = sys.__stdout__
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _loaded(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [["--help"], ["bid", "--help"], ["bid", "seal", "--help"]])
def test_light_commands_do_not_load_the_platform(args: list[str]) -> None:
    assert sorted(_loaded(*args) & set(HEAVY)) == []


def test_the_draw_verifier_loads_only_its_arithmetic() -> None:
    # numpy does the draw's arithmetic; the web app and the database stay out.
    assert sorted(_loaded("draw", "--help") & set(HEAVY)) == ["numpy"]


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
