"""Settings from environment variables.  Every variable and its default is listed in README.md."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from tenderhall.storage.base import parse_s3_url

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


def _bounded_int(name: str, default: int, low: int, high: int) -> int:
    value = _int(name, default)
    if not low <= value <= high:
        raise SettingsError(f"{ENV_PREFIX}{name} must be between {low} and {high}")
    return value


_BYTE_UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def _bytes(name: str, default: int) -> int:
    """A byte count, optionally with a binary unit: ``16G`` is 16 GiB."""
    text = _env(name, str(default)).strip().upper().removesuffix("IB").removesuffix("B")
    unit = 1
    if text and text[-1] in _BYTE_UNITS:
        unit, text = _BYTE_UNITS[text[-1]], text[:-1]
    try:
        value = int(text) * unit
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}{name} must be a number of bytes, e.g. 16G") from None
    if value <= 0:
        raise SettingsError(f"{ENV_PREFIX}{name} must be more than zero")
    return value


def _trusted_proxies() -> tuple[str, ...]:
    """Addresses or networks (CIDR), comma-separated; each checked and normalised, so that a typo
    fails at start instead of silently trusting nobody (or a literal host name)."""
    out = []
    for entry in (e.strip() for e in _env("TRUSTED_PROXIES", "").split(",")):
        if not entry:
            continue
        try:
            if "/" in entry:
                out.append(str(ipaddress.ip_network(entry, strict=False)))
            else:
                out.append(str(ipaddress.ip_address(entry)))
        except ValueError:
            raise SettingsError(
                f"{ENV_PREFIX}TRUSTED_PROXIES: {entry!r} is not an IP address or network"
            ) from None
    return tuple(out)


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
    # Sign-in throttling (auth.throttle): failed attempts allowed before back-off starts, per
    # (account, source) and per source, and the longest wait the back-off reaches.
    login_free_failures: int = 5
    login_source_free_failures: int = 30
    login_max_delay_seconds: int = 900
    # Peers whose X-Forwarded-For is believed (addresses and networks); empty: nobody's.
    trusted_proxies: tuple[str, ...] = ()
    # Per company: open upload sessions, and the bytes they declare in total.
    upload_max_open: int = 20
    upload_max_bytes: int = 16 * 1024**3
    # Anonymous answers of the public pages and lists are reused this long (0: never; web/cache.py).
    public_cache_seconds: int = 2
    workers: int = 1
    # Live notifications (the opening hall) between workers and hosts; empty: in-process only.
    redis_url: str = ""
    argon2_time_cost: int = 3
    # No connection pooling (behind PgBouncer, or when connections must not outlive an event loop).
    null_pool: bool = False
    argon2_memory_kib: int = 65536
    # Blob storage: empty keeps blobs in storage_dir; s3://bucket[/prefix] puts them in a bucket.
    storage_url: str = ""
    s3_endpoint_url: str = ""  # empty: AWS itself
    s3_region: str = ""  # empty, and the keys below: boto3's own configuration (AWS_*, roles)
    s3_access_key_id: str = ""
    s3_secret_access_key: str = field(default="", repr=False)
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    # Witnessing (C2SP tlog-witness): the name of this deployment's witness key, the logs it
    # cosigns (their note verifier keys; a key's name is its log's origin), and the witnesses its
    # own ledger asks, as (submission URL prefix, witness cosignature verifier key).
    witness_name: str = ""
    witness_logs: tuple[str, ...] = ()
    witnesses: tuple[tuple[str, str], ...] = ()
    witness_timeout: float = 5.0
    # Open data (OCDS): every tender's ocid is this prefix, "-", its id.  OCDS requires a prefix
    # registered with the Open Contracting Partnership (``ocds-`` and six characters); the default
    # is a placeholder each deployment replaces with its own registered one.
    ocds_prefix: str = "ocds-thall0"
    # RFC 3161 time-stamping authority for archive signatures (empty: signed without timestamps),
    # and a PEM file of its trust roots (empty: the system's trust store).
    tsa_url: str = ""
    tsa_trust: str = ""
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
            redis_url=_redis_url(),
            null_pool=_env("DB_NULL_POOL", "0") in ("1", "true", "yes"),
            argon2_time_cost=_int("ARGON2_TIME_COST", 3),
            argon2_memory_kib=_int("ARGON2_MEMORY_KIB", 65536),
            login_free_failures=_int("LOGIN_FREE_FAILURES", 5),
            login_source_free_failures=_int("LOGIN_SOURCE_FREE_FAILURES", 30),
            login_max_delay_seconds=_int("LOGIN_MAX_DELAY_SECONDS", 900),
            trusted_proxies=_trusted_proxies(),
            upload_max_open=_int("UPLOAD_MAX_OPEN", 20),
            upload_max_bytes=_bytes("UPLOAD_MAX_BYTES", 16 * 1024**3),
            public_cache_seconds=_bounded_int("PUBLIC_CACHE_SECONDS", 2, 0, 3600),
            ocds_prefix=_ocds_prefix(),
            **_storage_env(),
            **_witness_env(host),
            **_tsa_env(),
        )


OCDS_PREFIX = re.compile(r"ocds-[a-z0-9]{6}")


def _ocds_prefix() -> str:
    prefix = _env("OCDS_PREFIX", "ocds-thall0").strip()
    if not OCDS_PREFIX.fullmatch(prefix):
        raise SettingsError(f"{ENV_PREFIX}OCDS_PREFIX must be a registered prefix like ocds-213czf")
    return prefix


def _storage_env() -> dict[str, Any]:
    url = _env("STORAGE_URL", "").strip()
    if url:
        try:
            parse_s3_url(url)
        except ValueError as exc:
            raise SettingsError(f"{ENV_PREFIX}STORAGE_URL {exc}") from None
    endpoint = _env("S3_ENDPOINT_URL", "").strip()
    if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
        raise SettingsError(f"{ENV_PREFIX}S3_ENDPOINT_URL must be an http:// or https:// URL")
    style = _env("S3_ADDRESSING_STYLE", "auto").strip().lower()
    if style not in ("auto", "path", "virtual"):
        raise SettingsError(f"{ENV_PREFIX}S3_ADDRESSING_STYLE must be auto, path or virtual")
    key_id, secret = _env("S3_ACCESS_KEY_ID", ""), _env("S3_SECRET_ACCESS_KEY", "")
    if bool(key_id) != bool(secret):
        raise SettingsError(
            f"{ENV_PREFIX}S3_ACCESS_KEY_ID and {ENV_PREFIX}S3_SECRET_ACCESS_KEY go together: both or neither"
        )
    return {
        "storage_url": url,
        "s3_endpoint_url": endpoint,
        "s3_region": _env("S3_REGION", "").strip(),
        "s3_access_key_id": key_id,
        "s3_secret_access_key": secret,
        "s3_addressing_style": style,
    }


def _witness_env(host: str) -> dict[str, Any]:
    """Key strings are only split here; ``tenderhall.ledger`` parses them when services start."""
    logs = tuple(_env("WITNESS_LOGS", "").replace(",", " ").split())
    witnesses = []
    for entry in _env("WITNESSES", "").split(","):
        if not entry.strip():
            continue
        parts = entry.split()
        if len(parts) != 2 or urlsplit(parts[0]).scheme not in ("http", "https"):
            raise SettingsError(
                f"{ENV_PREFIX}WITNESSES must be comma-separated '<URL> <witness key>' pairs, "
                "e.g. 'https://b.example/api/v1/witness b.example/witness+1a2b3c4d+BH…'"
            )
        witnesses.append((parts[0].rstrip("/"), parts[1]))
    try:
        timeout = float(_env("WITNESS_TIMEOUT", "5"))
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}WITNESS_TIMEOUT must be a number of seconds") from None
    if not 0 < timeout <= 120:
        raise SettingsError(f"{ENV_PREFIX}WITNESS_TIMEOUT must be between 0 and 120 seconds")
    return {
        "witness_name": _env("WITNESS_NAME", f"{host}/tenderhall/witness"),
        "witness_logs": logs,
        "witnesses": tuple(witnesses),
        "witness_timeout": timeout,
    }


def _tsa_env() -> dict[str, Any]:
    url = _env("TSA_URL", "").strip()
    if url and urlsplit(url).scheme not in ("http", "https"):
        raise SettingsError(f"{ENV_PREFIX}TSA_URL must be an http:// or https:// URL")
    trust = _env("TSA_TRUST", "").strip()
    if trust and not Path(trust).expanduser().is_file():
        raise SettingsError(f"{ENV_PREFIX}TSA_TRUST must name a PEM file of the TSA's root certificates")
    return {"tsa_url": url, "tsa_trust": str(Path(trust).expanduser().resolve()) if trust else ""}


def _redis_url() -> str:
    url = _env("REDIS_URL", "").strip()
    if url and urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise SettingsError(f"{ENV_PREFIX}REDIS_URL must be a redis://, rediss:// or unix:// URL")
    return url
