"""Atomic file writes: the real name holds the whole new content or what it held before."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenderhall.files import atomic_write, write_text


def test_written_whole_and_private(tmp_path: Path) -> None:
    target = tmp_path / "receipt.json"
    write_text(target, "{}\n")
    assert target.read_text() == "{}\n"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["receipt.json"]


def _interrupted(target: Path, data: bytes) -> None:
    with atomic_write(target) as handle:
        handle.write(data)
        raise RuntimeError("disk full")


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "bid.zip"
    with pytest.raises(RuntimeError):
        _interrupted(target, b"half a zip")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_the_old_content(tmp_path: Path) -> None:
    target = tmp_path / "bid.zip"
    target.write_bytes(b"old package")
    with pytest.raises(RuntimeError):
        _interrupted(target, b"new")
    assert target.read_bytes() == b"old package"
    assert [p.name for p in tmp_path.iterdir()] == ["bid.zip"]


def test_no_replace_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "opening.key"
    write_text(target, "first\n", replace=False)
    with pytest.raises(FileExistsError):
        write_text(target, "second\n", replace=False)
    assert target.read_text() == "first\n"
    assert [p.name for p in tmp_path.iterdir()] == ["opening.key"]
