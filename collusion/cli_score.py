"""``tenderhall collusion score`` and ``tenderhall collusion import``: the offline scoring contract.

Registered on the ``collusion`` group of collusion/cli.py when this module is imported (plugin.py
does so before handing the group to the composition root).
"""

from __future__ import annotations

import asyncio
import io
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from collusion import ocds_schema, offline
from collusion.cli import collusion
from collusion.detector import DetectorParams
from collusion.service import Collusion
from tenderhall.files import atomic_write

LONG_INPUT = 1 << 20  # bytes; smaller inputs finish before a bar would be useful
SHOWN_PROBLEMS = 50
_DEFAULTS = DetectorParams()


@contextmanager
def _bar(show: bool) -> Iterator[Callable[[str, int | None], Callable[[int], None]]]:
    if not show:
        yield lambda label, total: lambda n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:

        def stage(label: str, total: int | None) -> Callable[[int], None]:
            task = bar.add_task(label, total=total)
            return lambda n: bar.advance(task, n)

        yield stage


def _validator(fmt: str, schema: Path | None, validate: bool) -> offline.Validator | None:
    if fmt != "ocds" or not validate:
        return None
    directory = schema or ocds_schema.default_dir()
    if directory is None:
        raise click.ClickException(
            f"OCDS schema not found: pass --schema DIR or set ${ocds_schema.ENV_VAR} (or --no-validate)"
        )
    try:
        return ocds_schema.Validator.from_dir(directory)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read the OCDS schema in {directory}: {exc}") from exc


def _load(
    path: Path,
    fmt: str | None,
    schema: Path | None,
    validate: bool,
    stage: Callable[..., Callable[[int], None]],
) -> offline.Loaded:
    fmt = fmt or offline.sniff_format(path)
    check = _validator(fmt, schema, validate)
    try:
        loaded = offline.load(path, fmt, check, stage("reading", None))
    except (OSError, offline.InputError) as exc:
        raise click.ClickException(str(exc)) from exc
    for p in loaded.problems[:SHOWN_PROBLEMS]:
        click.echo(f"{path.name}: {p}", err=True)
    if len(loaded.problems) > SHOWN_PROBLEMS:
        click.echo(f"{path.name}: … {len(loaded.problems) - SHOWN_PROBLEMS} more problems", err=True)
    return loaded


_format = click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "ocds"]),
    default=None,
    help="input format (default: from the suffix; .jsonl/.ndjson/.json are OCDS compiled releases)",
)
_schema = click.option(
    "--schema",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"folder with the OCDS 1.1.5 schema and the bid extension (default: ${ocds_schema.ENV_VAR} "
    "or ../shared/vectors/ocds)",
)
_validate = click.option(
    "--validate/--no-validate", default=True, show_default=True, help="validate OCDS input against the schema"
)
_quiet = click.option("--quiet", is_flag=True, help="no progress bar")


@collusion.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
@_format
@_schema
@_validate
@click.option(
    "--high", type=float, default=_DEFAULTS.high, show_default=True, help="risk threshold of 'high'"
)
@click.option(
    "--suspicious",
    type=float,
    default=_DEFAULTS.suspicious,
    show_default=True,
    help="threshold of 'suspicious'",
)
@click.option(
    "--explain",
    type=click.Choice(["zh", "en"]),
    default=None,
    help="add an explanation column in this language",
)
@click.option("--strict", is_flag=True, help="exit with status 2 if any input row was rejected")
@_quiet
def score(
    input_path: Path,
    output: Path,
    fmt: str | None,
    schema: Path | None,
    validate: bool,
    high: float,
    suspicious: float,
    explain: str | None,
    strict: bool,
    quiet: bool,
) -> None:
    """Score every tender of INPUT (CSV: tender_id,bidder_id,price[,…]; or OCDS JSON Lines).

    Writes OUTPUT with one row per tender: tender_id,risk,level,reasons (higher risk = more likely
    collusive; level is high, suspicious or none).  Rejected rows are listed with their line numbers.
    """
    try:
        params = DetectorParams(high=high, suspicious=suspicious)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    started = time.perf_counter()
    show = not quiet and input_path.stat().st_size >= LONG_INPUT
    with _bar(show) as stage:
        loaded = _load(input_path, fmt, schema, validate, stage)
        tick = stage("scoring", len(loaded.tenders))
        results = offline.score(loaded, params, tick)
    try:
        # Whole or not at all: a failed run never leaves a half-written report behind.
        with atomic_write(output, mode=0o644) as raw:
            out = io.TextIOWrapper(raw, "utf-8", newline="")
            n = offline.write_csv(results, out, explain)
            out.detach()  # flushed; the handle is atomic_write's to close
    except OSError as exc:
        raise click.ClickException(str(exc)) from exc
    levels = {lv: sum(1 for r in results if r.level.value == lv) for lv in ("high", "suspicious", "none")}
    click.echo(
        f"scored {n} tenders from {len(loaded.bids)} bids ({loaded.rows} rows read, "
        f"{len(loaded.problems)} rejected): {levels['high']} high, {levels['suspicious']} suspicious, "
        f"{levels['none']} none; wrote {output} in {time.perf_counter() - started:.1f} s",
        err=True,
    )
    if strict and loaded.problems:
        sys.exit(2)


@collusion.command("import")
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--centre", "centre_code", required=True, help="code of the centre the history belongs to (e.g. SH)"
)
@_format
@_schema
@_validate
@click.option("--no-alerts", is_flag=True, help="load the history only, do not open alerts")
@_quiet
def import_history(
    input_path: Path,
    centre_code: str,
    fmt: str | None,
    schema: Path | None,
    validate: bool,
    no_alerts: bool,
    quiet: bool,
) -> None:
    """Load a previous system's tenders (same formats as score) into the region's history."""
    from sqlalchemy import select

    from tenderhall.compose import build_services
    from tenderhall.orgs.models import Centre
    from tenderhall.settings import Settings

    show = not quiet and input_path.stat().st_size >= LONG_INPUT
    with _bar(show) as stage:
        loaded = _load(input_path, fmt, schema, validate, stage)

    async def go() -> str:
        services = build_services(Settings.from_env())
        try:
            async with services.transaction() as db:
                centre = await db.scalar(select(Centre).where(Centre.code == centre_code))
                if centre is None:
                    raise click.ClickException(f"no centre with code {centre_code!r}")
                report = await services.get(Collusion).importing.import_history(
                    db, loaded, centre.id, f"import:{input_path.name}", open_alerts=not no_alerts
                )
            return (
                f"imported {report.tenders} tenders ({report.bids} bids, {report.linked_companies} firms "
                f"matched to registered companies by credit code); {report.skipped_existing} bids of "
                f"tenders already in the history skipped; {len(loaded.problems)} rows rejected; "
                f"{report.alerts} alerts opened"
            )
        finally:
            await services.engine.dispose()

    click.echo(asyncio.run(go()))
