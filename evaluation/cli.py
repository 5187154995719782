"""``tenderhall draw verify RECORD.json``: replay a published draw offline."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from evaluation.draw_verify import verify_draw


@click.group(help="Verifiable expert draws.")
def draw() -> None:
    pass


@draw.command("verify", help="Replay a draw from its published record and say whether it matches.")
@click.argument("record", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--commitment",
    default=None,
    help="The commitment digest anchored in the ledger before the draw (from the draw.committed event).",
)
def draw_verify(record: Path, commitment: str | None) -> None:
    try:
        result = verify_draw(record.read_bytes(), anchored_commitment_digest=commitment)
    except (ValueError, KeyError, TypeError, IndexError) as exc:  # a record too broken to replay
        click.echo(f"MISMATCH [format] the record cannot be replayed: {exc!r}", err=True)
        sys.exit(1)
    if result.ok:
        click.echo(
            "OK: the draw replays exactly" + (" and matches the anchored commitment" if commitment else "")
        )
        return
    for problem in result.problems:
        click.echo(f"MISMATCH [{problem.kind}] {problem.detail}", err=True)
    sys.exit(1)
