"""Settings from the environment and key material on first start."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from tenderhall.keys import KeyFileError, PlatformKeys, derive_key
from tenderhall.settings import Settings, SettingsError


def _no_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Start from no TENDERHALL_ variable at all, in an empty folder."""
    for name in list(os.environ):
        if name.startswith("TENDERHALL_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_put_everything_under_the_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _no_settings(monkeypatch, tmp_path)
    settings = Settings.from_env()
    assert settings.data_dir == tmp_path / "var"
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'var' / 'tenderhall.db'}"
    assert settings.secrets_dir == tmp_path / "var" / "secrets"
    assert settings.base_url == "http://127.0.0.1:8000"
    assert not settings.secure_cookies
    assert settings.ledger_origin == "127.0.0.1:8000/tenderhall/ledger"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TENDERHALL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TENDERHALL_DATABASE_URL", "postgresql://u@db.example/th")
    monkeypatch.setenv("TENDERHALL_BASE_URL", "https://zb.example.gov.cn/")
    monkeypatch.setenv("TENDERHALL_CLOCK_OFFSET", "-2d")
    settings = Settings.from_env()
    assert settings.database_url == "postgresql+asyncpg://u@db.example/th"
    assert settings.secure_cookies
    assert settings.base_url == "https://zb.example.gov.cn"
    assert settings.clock_offset == timedelta(days=-2)


def test_abuse_limits_default_safe_and_parse(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _no_settings(monkeypatch, tmp_path)
    defaults = Settings.from_env()
    assert defaults.trusted_proxies == ()  # X-Forwarded-For believed from nobody
    assert (defaults.upload_max_open, defaults.upload_max_bytes) == (20, 16 * 1024**3)
    monkeypatch.setenv("TENDERHALL_TRUSTED_PROXIES", " 10.0.0.1, 10.8.3.4/16 ,, ::1")
    monkeypatch.setenv("TENDERHALL_UPLOAD_MAX_BYTES", "8GiB")
    monkeypatch.setenv("TENDERHALL_UPLOAD_MAX_OPEN", "5")
    settings = Settings.from_env()
    assert settings.trusted_proxies == ("10.0.0.1", "10.8.0.0/16", "::1")
    assert (settings.upload_max_open, settings.upload_max_bytes) == (5, 8 * 1024**3)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://x/y"),
        ("CLOCK_OFFSET", "soon"),
        ("WORKERS", "many"),
        ("TRUSTED_PROXIES", "10.0.0.1, proxy.internal"),
        ("UPLOAD_MAX_BYTES", "lots"),
        ("UPLOAD_MAX_BYTES", "0"),
        ("LOGIN_FREE_FAILURES", "five"),
    ],
)
def test_bad_settings_are_explained(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(f"TENDERHALL_{name}", value)
    with pytest.raises(SettingsError, match=f"TENDERHALL_{name}"):
        Settings.from_env()


def test_keys_are_made_once_private_and_never_printed(tmp_path: Path) -> None:
    first = PlatformKeys.load(tmp_path / "secrets", "example.org/ledger")
    for path in (tmp_path / "secrets").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700
    again = PlatformKeys.load(tmp_path / "secrets", "example.org/ledger")
    assert again.session_key == first.session_key
    assert again.data_key == first.data_key
    assert again.ledger_signer.key_string() == first.ledger_signer.key_string()
    shown = repr(first)
    assert first.session_key.hex() not in shown
    assert "PRIVATE" not in shown
    assert derive_key(first.data_key, "a") != derive_key(first.data_key, "b")


def test_readable_key_files_are_refused(tmp_path: Path) -> None:
    PlatformKeys.load(tmp_path, "example.org/ledger")
    (tmp_path / "data.key").chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        PlatformKeys.load(tmp_path, "example.org/ledger")


def test_an_empty_key_file_is_refused_not_used(tmp_path: Path) -> None:
    # What a crash during the first start left behind before key files were written atomically.
    (tmp_path / "data.key").touch(mode=0o600)
    with pytest.raises(KeyFileError, match="is empty"):
        PlatformKeys.load(tmp_path, "example.org/ledger")


def test_workers_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        loaded = list(pool.map(lambda _: PlatformKeys.load(tmp_path, "example.org/ledger"), range(16)))
    assert len({k.data_key for k in loaded}) == 1
    assert len({k.ledger_signer.key_string() for k in loaded}) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_the_ocds_prefix_is_a_registered_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _no_settings(monkeypatch, tmp_path)
    assert Settings.from_env().ocds_prefix == "ocds-thall0"
    monkeypatch.setenv("TENDERHALL_OCDS_PREFIX", "ocds-213czf")
    assert Settings.from_env().ocds_prefix == "ocds-213czf"
    for bad in ("ocds-", "ocds-213czf-x", "OCDS-213CZF", "213czf", "ocds-21/czf", "ocds-213czf0"):
        monkeypatch.setenv("TENDERHALL_OCDS_PREFIX", bad)
        with pytest.raises(SettingsError, match="OCDS_PREFIX"):
            Settings.from_env()


def test_time_stamping_authority_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TENDERHALL_DATA_DIR", str(tmp_path))
    assert (Settings.from_env().tsa_url, Settings.from_env().tsa_trust) == ("", "")
    roots = tmp_path / "tsa-roots.pem"
    roots.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("TENDERHALL_TSA_URL", "http://127.0.0.1:9000/tsa")
    monkeypatch.setenv("TENDERHALL_TSA_TRUST", str(roots))
    settings = Settings.from_env()
    assert settings.tsa_url == "http://127.0.0.1:9000/tsa"
    assert settings.tsa_trust == str(roots.resolve())
    monkeypatch.setenv("TENDERHALL_TSA_URL", "ftp://tsa.example")
    with pytest.raises(SettingsError, match="TSA_URL"):
        Settings.from_env()
    monkeypatch.setenv("TENDERHALL_TSA_URL", "https://tsa.example")
    monkeypatch.setenv("TENDERHALL_TSA_TRUST", str(tmp_path / "missing.pem"))
    with pytest.raises(SettingsError, match="TSA_TRUST"):
        Settings.from_env()
