"""``tenderhall collusion ...``: train the shipped screen model and benchmark it honestly."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from collusion import datasets, model_eval
from collusion.screen_model import SHIPPED_VARIANT, VARIANTS, shipped_model_path
from collusion.screen_training import dumps, fits_per_selection
from tenderhall.files import write_text


@contextmanager
def _progress(label: str, total: int, quiet: bool) -> Iterator[Callable[[], None]]:
    if quiet:
        yield lambda: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)


def _data_dir(value: Path | None) -> Path:
    d = value or datasets.default_data_dir()
    if not datasets.data_available(d):
        raise click.ClickException(
            f"labelled collusion data not found in {d} (pass --data or set ${datasets.ENV_VAR})"
        )
    return d


_data_option = click.option(
    "--data",
    "data",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"folder with the labelled CSVs (default: ../shared/data/collusion or ${datasets.ENV_VAR})",
)


@click.group(name="collusion")
def collusion() -> None:
    """Collusion screens: train and benchmark the price-screen model."""


@collusion.command()
@_data_option
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="where to write the model JSON (default: the shipped collusion/data/screen_model.json)",
)
@click.option("--quiet", is_flag=True, help="no progress bar")
def train(data: Path | None, output: Path | None, quiet: bool) -> None:
    """Fit the screen model on all labelled markets and write it as JSON (reproducible)."""
    d = _data_dir(data)
    out = output or shipped_model_path()
    started = time.perf_counter()
    try:
        with _progress(
            "training", fits_per_selection(SHIPPED_VARIANT, len(datasets.MARKET_FILES)), quiet
        ) as tick:
            doc = model_eval.train_document(d, tick=tick)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, dumps(doc), mode=0o644)  # whole or not at all: the detector loads it
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    hp = doc["hyperparameters"]
    click.echo(
        f"wrote {out} ({doc['variant']}: {len(doc['trees'])} trees, depth {hp['max_depth']}) "
        f"in {time.perf_counter() - started:.0f} s"
    )


@collusion.command()
@_data_option
@click.option(
    "--variant",
    "--features",
    "variant",
    type=click.Choice(list(VARIANTS)),
    default=SHIPPED_VARIANT,
    show_default=True,
    help="model variant to evaluate (see docs/collusion-model.md; the default ships)",
)
@click.option(
    "--lomo-only", is_flag=True, help="leave-one-market-out only (what variants are chosen by; much faster)"
)
@click.option("--quiet", is_flag=True, help="no progress bar")
def benchmark(data: Path | None, variant: str, lomo_only: bool, quiet: bool) -> None:
    """Grouped 5-fold CV per market and leave-one-market-out, against the floors and fixed screens."""
    d = _data_dir(data)
    started = time.perf_counter()
    try:
        arrays = model_eval.load_arrays(d)
        if lomo_only:
            fits = len(arrays) * fits_per_selection(variant, len(arrays) - 1)
            with _progress("evaluating", fits, quiet) as tick:
                lomo = model_eval.lomo_only(arrays, tick=tick, name=variant)
            click.echo(model_eval.comparison_table(arrays, lomo), nl=False)
        else:
            with _progress("evaluating", model_eval.evaluation_fits(len(arrays), variant), quiet) as tick:
                ev = model_eval.evaluate(arrays, tick=tick, name=variant)
            click.echo(model_eval.markdown_table(ev))
            click.echo(model_eval.comparison_table(arrays, ev.lomo, ev.within), nl=False)
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"\n{time.perf_counter() - started:.0f} s")
