"""``tenderhall archive …``: verify an archive anyone was given, and import the signing certificate."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tenderhall.i18n import LOCALES, environment_locale, translate

if TYPE_CHECKING:
    from tenderhall.ledger.note import Verifier

PASSPHRASE_ENV = "TENDERHALL_SIGNER_PASSPHRASE"  # noqa: S105 (the variable's name, not a secret)


@click.group(help="The signed tender archive (一标一档): build, verify, the signing certificate.")
def archive() -> None:
    pass


def _pem_roots(files: tuple[Path, ...]) -> list[object]:
    from archive.verify import load_certificates

    roots: list[object] = []
    for path in files:
        try:
            found = load_certificates(path.read_bytes())
        except ValueError:
            raise click.ClickException(f"{path}: not a PEM certificate file") from None
        if not found:
            raise click.ClickException(f"{path}: holds no certificate")
        roots.extend(found)
    return roots


@archive.command(
    "verify",
    help="Check an archive's signature, certificate chain, timestamp and ledger "
    "evidence (and, with --online, the platform's latest checkpoint and OCDS record). "
    "Exits non-zero when any check fails.",
)
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--trust",
    "trust",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM file of the archive CA's root (default: this platform's archive CA).",
)
@click.option(
    "--tsa-trust",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM file of the time-stamping authority's root (default: TENDERHALL_TSA_TRUST, "
    "else the system's trust store).",
)
@click.option(
    "--ledger-key",
    default="",
    help="The ledger's note verifier key (default: this platform's, "
    "the --online platform's, or the one the signed archive names).",
)
@click.option("--online", "online_url", default="", help="The platform's base URL, e.g. https://th.example.")
@click.option(
    "--ocds-url",
    default="",
    help="Where the platform publishes a record: a template with "
    "{base}, {ocid} and {tender} (default: {base}/api/v1/ocds/records/{ocid}).",
)
@click.option(
    "--lang",
    type=click.Choice(LOCALES),
    default=None,
    help="Language of the verdicts (default: TENDERHALL_LANG, LC_ALL, LANG).",
)
def verify(
    pdf: Path,
    trust: tuple[Path, ...],
    tsa_trust: tuple[Path, ...],
    ledger_key: str,
    online_url: str,
    ocds_url: str,
    lang: str | None,
) -> None:
    from archive import online as online_checks
    from archive.signing import SignerError, read
    from archive.verify import MAX_ARCHIVE_BYTES, Online, trust_from, verify_archive
    from tenderhall.ledger.note import NoteError, Verifier
    from tenderhall.settings import Settings, SettingsError

    locale = lang or environment_locale()
    try:
        settings: Settings | None = Settings.from_env()
    except SettingsError:
        settings = None  # a verifier away from any platform needs none of its settings
    roots = _pem_roots(trust)
    if not roots and settings is not None:
        try:
            signer = read(settings.secrets_dir)
        except SignerError as exc:
            raise click.ClickException(str(exc)) from None
        roots = list(signer.chain[-1:]) if signer else []
    if not roots:
        raise click.ClickException(translate("archive.cli.no_trust", locale))
    tsa_roots = _pem_roots(tsa_trust) or (
        _pem_roots((Path(settings.tsa_trust),)) if settings and settings.tsa_trust else None
    )
    key = None
    try:
        if ledger_key:
            key = Verifier.from_key_string(ledger_key)
        elif not online_url and settings is not None:
            key = _local_ledger_key(settings.secrets_dir)
    except NoteError as exc:
        raise click.ClickException(f"--ledger-key: {exc}") from None
    if pdf.stat().st_size > MAX_ARCHIVE_BYTES:
        raise click.ClickException(translate("archive.verify.too_large", locale, limit=MAX_ARCHIVE_BYTES))
    platform = None
    if online_url:
        platform = Online(online_url.rstrip("/"), ocds_url or online_checks.DEFAULT_OCDS_TEMPLATE)
    report = verify_archive(pdf.read_bytes(), trust_from(roots, tsa_roots, key), platform)  # type: ignore[arg-type]
    for line in report.lines(locale):
        click.echo(line)
    click.echo(
        translate("archive.verify.verdict_ok" if report.ok else "archive.verify.verdict_failed", locale)
    )
    if not report.ok:
        sys.exit(1)


def _local_ledger_key(secrets_dir: Path) -> Verifier | None:
    """This platform's ledger verifier key, read without making one."""
    from tenderhall.keys import LEDGER_KEY
    from tenderhall.ledger.note import Signer

    path = secrets_dir / LEDGER_KEY
    if not path.is_file():
        return None
    return Signer.from_key_string(path.read_text().strip()).verifier()


@archive.command(
    "import-signer",
    help="Replace the archive signing key and certificate with a PKCS#12 "
    f"file's (passphrase from ${PASSPHRASE_ENV}, else asked for).",
)
@click.argument("p12", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_signer(p12: Path) -> None:
    from archive.signing import MAX_PKCS12_BYTES, ArchiveSigner, SignerError, install
    from tenderhall.settings import Settings, SettingsError

    locale = environment_locale()
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    if p12.stat().st_size > MAX_PKCS12_BYTES:
        raise click.ClickException(f"{p12}: larger than {MAX_PKCS12_BYTES} bytes")
    passphrase = os.environ.get(PASSPHRASE_ENV)
    if passphrase is None:
        passphrase = click.prompt(
            translate("archive.signer.passphrase", locale), hide_input=True, default="", show_default=False
        )
    try:
        signer = ArchiveSigner.from_pkcs12(p12.read_bytes(), passphrase.encode())
    except SignerError as exc:
        raise click.ClickException(str(exc)) from None
    path = install(settings.secrets_dir, signer)
    click.echo(
        translate(
            "archive.signer.imported", locale, subject=signer.certificate.subject.rfc4514_string(), path=path
        )
    )
