"""Message catalogues (gettext .po files), Simplified Chinese first.

Messages are looked up by key (e.g. ``error.not_found``) and formatted with named parameters.
The kernel's catalogue lives under ``web/locales``; each domain package keeps its own messages
beside its code (its plugin's ``LOCALE_DIR``), and a locale's catalogue is all of them merged
(a key in two of them is an error).  Catalogues are parsed once with Babel; a key missing from a
locale falls back to English, then to the key itself, so a gap shows up as a visible key instead
of an empty string.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
_DIR = Path(__file__).resolve().parent / "web" / "locales"


def catalogue_files(locale: str) -> list[Path]:
    """The kernel's catalogue of ``locale``, then each domain package's."""
    from tenderhall.compose import locale_dirs

    return [folder / locale / "LC_MESSAGES" / "messages.po" for folder in (_DIR, *locale_dirs())]


def read_catalogue(path: Path, locale: str) -> dict[str, str]:
    with path.open("rb") as handle:
        cat = read_po(handle, locale=locale)
    return {str(m.id): str(m.string) for m in cat if m.id and m.string}


@cache
def catalogue(locale: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in catalogue_files(locale):
        messages = read_catalogue(path, locale)
        if twice := merged.keys() & messages.keys():
            raise ValueError(f"{path} repeats messages of another catalogue: {sorted(twice)}")
        merged |= messages
    return merged


def translate(key: str, locale: str = DEFAULT_LOCALE, **params: Any) -> str:
    text = (
        catalogue(locale if locale in LOCALES else DEFAULT_LOCALE).get(key) or catalogue("en").get(key) or key
    )
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def environment_locale(environ: Mapping[str, str] | None = None) -> str:
    """The locale of a command-line user: TENDERHALL_LANG, then the POSIX LC_ALL, LC_MESSAGES, LANG."""
    env = os.environ if environ is None else environ
    for name in ("TENDERHALL_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "").strip().lower()
        if value:
            if value.startswith("zh"):
                return "zh_CN"
            if value.startswith("en"):
                return "en"
            return DEFAULT_LOCALE
    return DEFAULT_LOCALE


def negotiate(accept_language: str | None, preferred: str | None = None) -> str:
    """The locale for a request: an explicit choice (cookie/account) wins, then Accept-Language."""
    if preferred in LOCALES:
        return preferred
    if accept_language:
        ranked = []
        for part in accept_language.split(","):
            lang, _, q = part.strip().partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                weight = 0.0
            ranked.append((weight, lang.strip().lower()))
        for _, lang in sorted(ranked, key=lambda item: -item[0]):
            if lang.startswith("zh"):
                return "zh_CN"
            if lang.startswith("en"):
                return "en"
    return DEFAULT_LOCALE
