"""The PDF side of verifying an archive (pyHanko): its one PAdES signature, the chain to a trust
root, its timestamps, and the files attached to the revision the signature covers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

# Name trees are shallow in practice; a deeper one is hostile.
MAX_NAME_TREE_DEPTH = 16
MAX_ATTACHMENT_BYTES = 64 << 20


@dataclass
class PdfFindings:
    """What pyHanko found; each ``*_problem`` is a catalogue key (None: the check passed)."""

    readable: bool = False
    signature_problem: str | None = "archive.verify.no_signature"
    chain_problem: str | None = "archive.verify.no_signature"
    signer: str = ""
    trust_anchor: str = ""
    # None: the archive carries no timestamp at all (signed without a TSA).
    timestamp_problem: str | None = None
    timestamped: bool = False
    timestamp_time: datetime | None = None
    attachments: dict[str, bytes] = field(default_factory=dict)


def _asn1(cert: x509.Certificate) -> Any:
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def check_pdf(
    data: bytes,
    signer_roots: Sequence[x509.Certificate],
    tsa_roots: Sequence[x509.Certificate] | None,
) -> PdfFindings:
    """Validate the archive's signature offline, from what the file embeds; ``tsa_roots`` None
    trusts the system's roots for timestamps."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    found = PdfFindings()
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        signatures = list(reader.embedded_regular_signatures)
        doc_timestamps = list(reader.embedded_timestamp_signatures)
    except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, OSError):
        found.signature_problem = found.chain_problem = "archive.verify.unreadable"
        return found
    found.readable = True
    if not signatures:
        found.attachments = _attachments(reader.root)
        return found
    sig = signatures[0]
    found.attachments = _attachments(_signed_root(reader, sig))
    if len(signatures) > 1:
        found.signature_problem = found.chain_problem = "archive.verify.several_signatures"
        return found
    try:
        _validate(found, reader, sig, doc_timestamps, signer_roots, tsa_roots)
    except Exception:  # pyHanko raises many kinds on damaged input: any of them is a failed check
        found.signature_problem = found.chain_problem = "archive.verify.signature_broken"
    return found


def _validate(
    found: PdfFindings,
    reader: Any,
    sig: Any,
    doc_timestamps: list[Any],
    signer_roots: Sequence[x509.Certificate],
    tsa_roots: Sequence[x509.Certificate] | None,
) -> None:
    from pyhanko.sign.validation import (
        DocumentSecurityStore,
        SignatureCoverageLevel,
        validate_pdf_signature,
        validate_pdf_timestamp,
    )
    from pyhanko.sign.validation.errors import NoDSSFoundError
    from pyhanko_certvalidator import ValidationContext

    try:
        dss: Any = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        dss = None

    def context(roots: Sequence[x509.Certificate] | None, moment: datetime | None = None) -> Any:
        kwargs: dict[str, Any] = {
            "trust_roots": [_asn1(c) for c in roots] if roots is not None else None,
            "allow_fetching": False,
            "revocation_mode": "soft-fail",
        }
        if moment is not None:
            kwargs["moment"] = moment
        return dss.as_validation_context(kwargs) if dss is not None else ValidationContext(**kwargs)

    ts_context = context(tsa_roots)
    status = validate_pdf_signature(
        sig, signer_validation_context=context(signer_roots), ts_validation_context=ts_context
    )
    found.signer = status.signing_cert.subject.human_friendly
    covered = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION and bool(status.docmdp_ok)
    )
    if not (status.intact and status.valid):
        found.signature_problem = "archive.verify.signature_invalid"
    elif not covered or not _ends_cleanly(reader):
        found.signature_problem = "archive.verify.signature_partial"
    else:
        found.signature_problem = None
    ts = status.timestamp_validity
    if ts is not None or doc_timestamps:
        found.timestamped = True
        found.timestamp_problem = _timestamp_problem(ts, doc_timestamps, ts_context, validate_pdf_timestamp)
        if ts is not None:
            found.timestamp_time = ts.timestamp
    trusted = status.trusted
    if not trusted and found.timestamp_problem is None and found.timestamp_time is not None:
        # Past its certificate's life the signature still stands at the time a trusted TSA vouches
        # for, with the validation data embedded then (PAdES B-LT/LTA).
        again = validate_pdf_signature(
            sig,
            signer_validation_context=context(signer_roots, found.timestamp_time),
            ts_validation_context=ts_context,
            skip_diff=True,
        )
        trusted = again.trusted
    if found.signature_problem is not None and found.signature_problem != "archive.verify.signature_partial":
        found.chain_problem = "archive.verify.signature_invalid"
    elif not trusted:
        found.chain_problem = "archive.verify.chain_untrusted"
    else:
        found.chain_problem = None
        anchor = status.validation_path[0] if status.validation_path is not None else None
        found.trust_anchor = anchor.subject.human_friendly if anchor is not None else ""


def _ends_cleanly(reader: Any) -> bool:
    """Nothing after the last revision's %%EOF but line ends: pyHanko tolerates trailing bytes,
    an archive has none."""
    stream = reader.stream
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(max(0, size - 64))
    tail = stream.read().rstrip(b"\r\n")
    return bool(tail.endswith(b"%%EOF"))


def _timestamp_problem(ts: Any, doc_timestamps: list[Any], context: Any, validate: Any) -> str | None:
    if ts is None:
        return "archive.verify.timestamp_missing"
    if not (ts.intact and ts.valid):
        return "archive.verify.timestamp_invalid"
    if not ts.trusted:
        return "archive.verify.timestamp_untrusted"
    for doc_ts in doc_timestamps:
        status = validate(doc_ts, validation_context=context)
        if not (status.intact and status.valid):
            return "archive.verify.timestamp_invalid"
        if not status.trusted:
            return "archive.verify.timestamp_untrusted"
    return None


def _signed_root(reader: Any, sig: Any) -> Any:
    """The document catalogue as the signature saw it: files attached later do not count."""
    try:
        return reader.get_historical_root(sig.signed_revision)
    except Exception:  # an unreadable history: the signature check reports it
        return reader.root


def _attachments(root: Any) -> dict[str, bytes]:
    """Embedded files by name (the document's /EmbeddedFiles name tree)."""
    found: dict[str, bytes] = {}
    try:
        tree = root["/Names"]["/EmbeddedFiles"]
    except (KeyError, TypeError):
        return found
    _walk(tree, found, 0)
    return found


def _walk(node: Any, found: dict[str, bytes], depth: int) -> None:
    if depth > MAX_NAME_TREE_DEPTH:
        return
    try:
        node = node.get_object()
        names = node.get("/Names")
        if names is not None:
            names = names.get_object()
            for i in range(0, len(names) - 1, 2):
                name = str(names[i])
                spec = names[i + 1].get_object()
                stream = spec["/EF"]["/F"].get_object()
                length = int(stream.get("/Length", 0))
                if length > MAX_ATTACHMENT_BYTES:
                    continue
                data = stream.data
                if len(data) <= MAX_ATTACHMENT_BYTES and name not in found:
                    found[name] = bytes(data)
        for kid in node.get("/Kids") or []:
            _walk(kid, found, depth + 1)
    except (KeyError, TypeError, ValueError, AttributeError):
        return
