"""Where the platform's own files live, in a checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def migrations_dir() -> Path:
    checkout = PACKAGE_DIR.parent.parent / "migrations"
    if (checkout / "env.py").exists():
        return checkout
    return PACKAGE_DIR / "migrations"  # force-included into the wheel
