"""``collusion train`` / ``collusion benchmark`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from collusion import datasets, model_eval
from collusion.cli import collusion
from collusion.model_eval import Evaluation, Metrics
from collusion.screen_model import feature_matrix, shipped_model_path
from collusion.screen_training import library_versions
from collusion.screens import screens


def test_help_lists_commands() -> None:
    result = CliRunner().invoke(collusion, ["--help"])
    assert result.exit_code == 0
    assert "train" in result.output
    assert "benchmark" in result.output


@pytest.mark.parametrize("command", ["train", "benchmark"])
def test_missing_data_is_one_readable_line(tmp_path: Path, command: str) -> None:
    result = CliRunner().invoke(collusion, [command, "--data", str(tmp_path / "nowhere"), "--quiet"])
    assert result.exit_code != 0
    assert "labelled collusion data not found" in result.output
    assert "Traceback" not in result.output


def test_benchmark_prints_table_with_floors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    m = Metrics(10, 0.5, 0.9, 0.8, 0.85)
    monkeypatch.setattr(datasets, "data_available", lambda d=None: True)
    # Two tenders: the tight one (CV low) collusive, so -CV ranks them perfectly; no estimate.
    arrays = model_eval.MarketArrays(
        feature_matrix([screens([100, 101, 102]), screens([100, 150, 190])]),
        np.array([1, 0], dtype=np.int64),
        ("a", "b"),
    )
    monkeypatch.setattr(model_eval, "load_arrays", lambda d=None: {"Brazil": arrays})
    monkeypatch.setattr(
        model_eval,
        "evaluate",
        lambda a, tick=None, name="x": Evaluation({"Brazil": m}, {"Brazil": m}),
    )
    result = CliRunner().invoke(collusion, ["benchmark", "--data", str(tmp_path), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "| Brazil | 10 | 0.500 | 0.880 | 0.900 | 0.800 | 0.850 |" in result.output
    # Beside the model: the fixed screens, -CV (1.0 here) and winner/estimate (no estimate: "-").
    assert "| Brazil | 0.900 | 0.900 | 1.000 | - |" in result.output
    bad = CliRunner().invoke(collusion, ["benchmark", "--data", str(tmp_path), "--variant", "nope"])
    assert bad.exit_code != 0


@pytest.mark.slow
@pytest.mark.skipif(
    not datasets.data_available(),
    reason=f"labelled collusion data absent from {datasets.default_data_dir()} (set ${datasets.ENV_VAR})",
)
def test_train_reproduces_shipped_model_byte_for_byte(tmp_path: Path) -> None:
    shipped = shipped_model_path().read_bytes()
    if json.loads(shipped)["library_versions"] != library_versions():
        pytest.skip("shipped model was trained with other library versions; byte identity not expected")
    out = tmp_path / "model.json"
    result = CliRunner().invoke(collusion, ["train", "--output", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == shipped
