"""The bidder client's files appear whole or not at all, and its errors are one line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bidding.client.cli import bid

FORM = {"price": "900000", "duration_days": 200, "quality": "合格", "project_manager": "李工"}


def pack(tmp_path: Path, form: object, out: Path) -> tuple[int, str]:
    form_path = tmp_path / "form.json"
    form_path.write_text(form if isinstance(form, str) else json.dumps(form), encoding="utf-8")
    doc = tmp_path / "技术标.txt"
    doc.write_text("施工组织设计\n", encoding="utf-8")
    result = CliRunner().invoke(bid, ["pack", "--form", str(form_path), "--out", str(out), str(doc)])
    return result.exit_code, result.output


def test_an_incomplete_form_leaves_no_package(tmp_path: Path) -> None:
    out = tmp_path / "out" / "bid.zip"
    out.parent.mkdir()
    code, output = pack(tmp_path, {"price": "900000"}, out)
    assert code == 1
    assert output == "Error: the bid form lacks duration_days, quality, project_manager\n"
    assert list(out.parent.iterdir()) == []  # neither a 0-byte zip nor a temporary file


def test_a_failed_pack_keeps_the_previous_package(tmp_path: Path) -> None:
    out = tmp_path / "bid.zip"
    assert pack(tmp_path, FORM, out)[0] == 0
    before = out.read_bytes()
    code, output = pack(tmp_path, "{not json", out)
    assert code == 1
    assert output.count("\n") == 1
    assert "is not JSON" in output
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bid.zip", "form.json", "技术标.txt"]


def test_keygen_never_overwrites_keys(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    args = ["--home", str(tmp_path / "home"), "--keys", str(keys), "keygen"]
    assert CliRunner().invoke(bid, args).exit_code == 0
    before = {p.name: p.read_bytes() for p in keys.iterdir()}
    assert {p.stat().st_mode & 0o777 for p in keys.iterdir()} == {0o600}
    again = CliRunner().invoke(bid, args)
    assert again.exit_code == 1
    assert "keys already exist" in again.output
    assert {p.name: p.read_bytes() for p in keys.iterdir()} == before
    assert CliRunner().invoke(bid, [*args, "--force"]).exit_code == 0
    after = {p.name: p.read_bytes() for p in keys.iterdir()}
    assert after.keys() == before.keys()
    assert after != before
