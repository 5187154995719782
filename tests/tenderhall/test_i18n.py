"""Every message key the code uses exists in both catalogues, and the catalogues agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tenderhall.i18n import LOCALES, catalogue, catalogue_files, negotiate, read_catalogue, translate

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    *ROOT.glob("src/tenderhall/**/*.py"),
    *ROOT.glob("*/templates/*.jinja"),
    *ROOT.glob("src/tenderhall/web/templates/*.jinja"),
    *ROOT.glob("bidding/**/*.py"),
    *ROOT.glob("evaluation/**/*.py"),
    *ROOT.glob("collusion/**/*.py"),
]
KEY = re.compile(
    r"""(?:InvalidInput|NotFound|Forbidden|Conflict|Unauthenticated|TooManyRequests|DomainError)\(\s*"([a-z_]+\.[a-z_.]+)"|\bt\('([a-z_]+\.[a-z_.]+)'"""
)


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in SOURCES:
        for match in KEY.finditer(path.read_text(encoding="utf-8")):
            keys.add(match.group(1) or match.group(2))
    return keys


def test_catalogues_have_the_same_keys() -> None:
    assert set(catalogue("zh_CN")) == set(catalogue("en"))


@pytest.mark.parametrize("locale", LOCALES)
def test_every_used_key_is_translated(locale: str) -> None:
    keys = used_keys()
    assert len(keys) > 40  # the scan itself works
    missing = sorted(k for k in keys if k not in catalogue(locale))
    assert missing == []


def test_parameters_are_filled_and_chinese_comes_first() -> None:
    assert translate("user.password_short", "zh_CN", minimum=10) == "密码至少 10 位"
    assert translate("user.password_short", "en", minimum=10) == "Passwords need at least 10 characters"
    assert translate("no.such.key", "en") == "no.such.key"
    assert negotiate(None) == "zh_CN"
    assert negotiate("en-US,en;q=0.9") == "en"
    assert negotiate("fr-FR, en;q=0.5, zh-CN;q=0.8") == "zh_CN"
    assert negotiate("en", preferred="zh_CN") == "zh_CN"


@pytest.mark.parametrize("folder", sorted({path.parents[2] for path in catalogue_files("en")}))
def test_each_catalogue_has_both_locales_with_the_same_keys(folder: Path) -> None:
    keys = {
        locale: set(read_catalogue(folder / locale / "LC_MESSAGES" / "messages.po", locale))
        for locale in LOCALES
    }
    assert keys["en"]
    assert keys["zh_CN"] == keys["en"]


def test_domain_messages_live_with_their_domain() -> None:
    files = catalogue_files("zh_CN")
    assert [path.parts[-5] if "web" not in path.parts else "kernel" for path in files] == [
        "kernel",
        "bidding",
        "evaluation",
        "collusion",
        "archive",
    ]
    kernel = read_catalogue(files[0], "zh_CN")
    # Bidding's, evaluation's and collusion's keys are not the kernel's.
    assert not any(key.startswith(("bid.", "hall.", "collusion.", "notify.", "draw.")) for key in kernel)
