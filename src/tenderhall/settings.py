"""Settings from environment variables.  Every variable and its default is listed in README.md."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ENV_PREFIX = "TENDERHALL_"


class SettingsError(ValueError):
    """A setting has a value the platform cannot use."""


def _env(name: str, default: str) -> str:
    return os.environ.get(ENV_PREFIX + name, default)


def _parse_offset(text: str) -> timedelta:
    """Clock offset for demos: seconds, optionally with a unit suffix s/m/h/d (e.g. ``-2d``)."""
    text = text.strip()
    if not text:
        return timedelta(0)
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    unit = 1
    if text[-1] in units:
        unit = units[text[-1]]
        text = text[:-1]
    try:
        return timedelta(seconds=float(text) * unit)
    except ValueError:
        raise SettingsError(
            f"{ENV_PREFIX}CLOCK_OFFSET must be a number of seconds or like 3d, 2h, -30m"
        ) from None


def _int(name: str, default: int) -> int:
    try:
        return int(_env(name, str(default)))
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}{name} must be a whole number") from None


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secrets_dir: Path
    storage_dir: Path
    base_url: str
    clock_offset: timedelta = timedelta(0)
    ledger_origin: str = ""
    log_level: str = "INFO"
    session_hours: int = 12
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    workers: int = 1
    argon2_time_cost: int = 3
    # No connection pooling (behind PgBouncer, or when connections must not outlive an event loop).
    null_pool: bool = False
    argon2_memory_kib: int = 65536
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(_env("DATA_DIR", "var")).expanduser().resolve()
        database_url = _env("DATABASE_URL", f"sqlite+aiosqlite:///{data_dir / 'tenderhall.db'}")
        if database_url.startswith("postgresql://") or database_url.startswith("postgres://"):
            database_url = "postgresql+asyncpg://" + database_url.split("://", 1)[1]
        if not (
            database_url.startswith("sqlite+aiosqlite://") or database_url.startswith("postgresql+asyncpg://")
        ):
            raise SettingsError(
                f"{ENV_PREFIX}DATABASE_URL must be a sqlite+aiosqlite:// or postgresql:// URL"
            )
        base_url = _env("BASE_URL", "http://127.0.0.1:8000").rstrip("/")
        host = urlsplit(base_url).netloc or "localhost"
        try:
            workers = int(_env("WORKERS", "1"))
            session_hours = int(_env("SESSION_HOURS", "12"))
        except ValueError:
            raise SettingsError(
                f"{ENV_PREFIX}WORKERS and {ENV_PREFIX}SESSION_HOURS must be whole numbers"
            ) from None
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            secrets_dir=Path(_env("SECRETS_DIR", str(data_dir / "secrets"))).expanduser().resolve(),
            storage_dir=Path(_env("STORAGE_DIR", str(data_dir / "storage"))).expanduser().resolve(),
            base_url=base_url,
            clock_offset=_parse_offset(_env("CLOCK_OFFSET", "0")),
            ledger_origin=_env("LEDGER_ORIGIN", f"{host}/tenderhall/ledger"),
            log_level=_env("LOG_LEVEL", "INFO").upper(),
            session_hours=session_hours,
            workers=workers,
            null_pool=_env("DB_NULL_POOL", "0") in ("1", "true", "yes"),
            argon2_time_cost=_int("ARGON2_TIME_COST", 3),
            argon2_memory_kib=_int("ARGON2_MEMORY_KIB", 65536),
        )
