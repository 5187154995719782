"""Verifying a tender archive: one verdict per check, each named, in the reader's language.

Checks, in order:

- ``signature``: the platform's one PAdES signature is intact and covers the whole file (later
  revisions may only add validation data and document timestamps);
- ``chain``: the signer's certificate chains to the platform's archive CA (or the roots given);
- ``timestamp``: the signature timestamp and document timestamps, where present, verify and chain
  to a trusted TSA;
- ``ledger``: the attached ledger entries are included under the attached checkpoint, whose
  signature verifies with the platform's ledger key;
- ``consistency`` (online): the attached checkpoint is a prefix of the platform's latest;
- ``ocds`` (online): the attached OCDS record equals the platform's published one.

Everything but the two online checks is pure: bytes and trust in, verdicts out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography import x509

from archive import evidence, online, pdfcheck
from archive.signing import off_loop
from tenderhall.i18n import translate
from tenderhall.ledger.checkpoint import Checkpoint
from tenderhall.ledger.note import NoteError, Verifier

CHECKS = ("signature", "chain", "timestamp", "ledger", "consistency", "ocds")
OCDS_ATTACHMENT = "ocds-record.json"
MAX_ARCHIVE_BYTES = 512 << 20

Status = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class Verdict:
    check: str
    status: Status
    message: str  # a catalogue key
    params: dict[str, Any] = field(default_factory=dict)

    def title(self, locale: str) -> str:
        return translate(f"archive.check.{self.check}", locale)

    def text(self, locale: str) -> str:
        return translate(self.message, locale, **self.params)

    def status_text(self, locale: str) -> str:
        return translate(f"archive.status.{self.status}", locale)


@dataclass(frozen=True)
class Trust:
    """What a verifier believes: the archive CA's roots, the TSAs' roots (None: the system's
    trust store), and the ledger's verifier key (None: the platform's, or the one the signed
    archive names)."""

    signer_roots: tuple[x509.Certificate, ...]
    tsa_roots: tuple[x509.Certificate, ...] | None = None
    ledger_key: Verifier | None = None


@dataclass(frozen=True)
class Online:
    """The platform to compare with: its base URL and where it publishes OCDS records."""

    base: str
    ocds_template: str = online.DEFAULT_OCDS_TEMPLATE


@dataclass(frozen=True)
class Report:
    verdicts: tuple[Verdict, ...]
    # The attached checkpoint, once the ledger check verified it (for checks made elsewhere).
    checkpoint: Checkpoint | None = None

    @property
    def ok(self) -> bool:
        return all(v.status != "fail" for v in self.verdicts)

    def get(self, check: str) -> Verdict:
        return next(v for v in self.verdicts if v.check == check)

    def lines(self, locale: str) -> list[str]:
        return [f"[{v.status_text(locale)}] {v.title(locale)}: {v.text(locale)}" for v in self.verdicts]


def _verdict(check: str, problem: str | None, passed: str, **params: Any) -> Verdict:
    if problem is None:
        return Verdict(check, "pass", passed, params)
    return Verdict(check, "fail", problem, params)


def verify_archive(data: bytes, trust: Trust, platform: Online | None = None) -> Report:
    """Every check's verdict for the archive ``data``."""
    if len(data) > MAX_ARCHIVE_BYTES:
        fail = Verdict("signature", "fail", "archive.verify.too_large", {"limit": MAX_ARCHIVE_BYTES})
        return Report((fail, *(Verdict(c, "fail", "archive.verify.unreadable") for c in CHECKS[1:])))
    pdf = off_loop(pdfcheck.check_pdf, data, trust.signer_roots, trust.tsa_roots)
    verdicts = [
        _verdict("signature", pdf.signature_problem, "archive.verify.signature_ok", signer=pdf.signer),
        _verdict("chain", pdf.chain_problem, "archive.verify.chain_ok", anchor=pdf.trust_anchor),
    ]
    if not pdf.timestamped:
        verdicts.append(Verdict("timestamp", "skip", "archive.verify.timestamp_none"))
    else:
        when = pdf.timestamp_time.isoformat() if pdf.timestamp_time else "?"
        verdicts.append(
            _verdict("timestamp", pdf.timestamp_problem, "archive.verify.timestamp_ok", time=when)
        )
    http = online.client() if platform is not None else None
    checkpoint = None
    try:
        ledger, checkpoint, tender = _ledger(pdf, trust, platform, http)
        verdicts.append(ledger)
        verdicts.extend(_online(pdf, platform, http, checkpoint, tender, trust))
    finally:
        if http is not None:
            http.close()
    return Report(tuple(verdicts), checkpoint)


def _ledger(
    pdf: pdfcheck.PdfFindings, trust: Trust, platform: Online | None, http: Any
) -> tuple[Verdict, Checkpoint | None, str]:
    data = pdf.attachments.get(evidence.ATTACHMENT)
    if data is None:
        return Verdict("ledger", "fail", "archive.evidence.missing"), None, ""
    key, source = trust.ledger_key, "given"
    if key is None and platform is not None:
        try:
            key, source = online.platform_key(http, platform.base), "platform"
        except online.OnlineError as exc:
            return Verdict("ledger", "fail", "archive.verify.online_error", {"reason": str(exc)}), None, ""
    if key is None:
        named = evidence.named_key(data)
        if named is None or pdf.signature_problem is not None:
            # The archive's own word for its key counts only while its signature holds.
            return Verdict("ledger", "fail", "archive.evidence.no_key"), None, ""
        try:
            key, source = Verifier.from_key_string(named), "archive"
        except NoteError:
            return Verdict("ledger", "fail", "archive.evidence.malformed"), None, ""
    report = evidence.verify_evidence(data, key)
    if not report.ok or report.checkpoint is None:
        return (
            Verdict("ledger", "fail", report.problem or "archive.evidence.malformed", report.params),
            None,
            "",
        )
    ok = Verdict(
        "ledger",
        "pass",
        f"archive.verify.ledger_ok_{source}",
        {"entries": report.entries, "size": report.checkpoint.size, "ledger_key": key.name},
    )
    return ok, report.checkpoint, report.tender


def _online(
    pdf: pdfcheck.PdfFindings,
    platform: Online | None,
    http: Any,
    checkpoint: Checkpoint | None,
    tender: str,
    trust: Trust,
) -> list[Verdict]:
    if platform is None or http is None:
        return [Verdict(c, "skip", "archive.verify.offline") for c in ("consistency", "ocds")]
    out: list[Verdict] = []
    if checkpoint is None:
        out.append(Verdict("consistency", "fail", "archive.verify.no_checkpoint"))
    else:
        try:
            key = trust.ledger_key or online.platform_key(http, platform.base)
            result = online.check_consistency(http, platform.base, key, checkpoint)
            out.append(_verdict("consistency", result.problem, "archive.verify.consistent", **result.params))
        except online.OnlineError as exc:
            out.append(Verdict("consistency", "fail", "archive.verify.online_error", {"reason": str(exc)}))
    try:
        result = online.check_ocds(
            http, platform.base, platform.ocds_template, pdf.attachments.get(OCDS_ATTACHMENT), tender
        )
        out.append(_verdict("ocds", result.problem, "archive.verify.ocds_ok", **result.params))
    except online.OnlineError as exc:
        out.append(Verdict("ocds", "fail", "archive.verify.online_error", {"reason": str(exc)}))
    return out


def load_certificates(pem: bytes) -> tuple[x509.Certificate, ...]:
    """Every certificate of a PEM file (a trust root file may hold several)."""
    return tuple(x509.load_pem_x509_certificates(pem))


def trust_from(
    signer_roots: Sequence[x509.Certificate],
    tsa_roots: Sequence[x509.Certificate] | None = None,
    ledger_key: Verifier | None = None,
) -> Trust:
    return Trust(tuple(signer_roots), tuple(tsa_roots) if tsa_roots is not None else None, ledger_key)
