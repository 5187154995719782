"""Every message key evaluation uses exists in both catalogues (the kernel's scan covers src/ only)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tenderhall.i18n import LOCALES, catalogue

ROOT = Path(__file__).resolve().parents[2]
KEY = re.compile(
    r"""(?:InvalidInput|NotFound|Conflict|Forbidden|SheetError)\(\s*"([a-z_]+\.[a-z_.]+)"|\(\s*"((?:csv|scoring)\.[a-z_]+)",\s*\""""
)
NOTIFY = re.compile(r"""notify\(\s*[^,]+,\s*[^,]+,\s*"([a-z_]+)\"""", re.S)


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in (ROOT / "evaluation").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        keys |= {m.group(1) or m.group(2) for m in KEY.finditer(text)}
        for kind in NOTIFY.findall(text):
            keys |= {f"notify.{kind}.subject", f"notify.{kind}.body"}
    return keys


@pytest.mark.parametrize("locale", LOCALES)
def test_every_evaluation_key_is_translated(locale: str) -> None:
    keys = used_keys()
    assert len(keys) > 60
    assert sorted(k for k in keys if k not in catalogue(locale)) == []
