"""The platform's archive signing key and certificate, and the PAdES signature of an archive.

On first start an internal CA (a self-signed root) issues one document-signing certificate; the
signer's key, its certificate and the chain up to the root are kept as one PEM file in the secrets
folder (mode 0600, beside the ledger key), written whole or not at all, so workers starting
together agree on one signer.  The CA's own key is discarded once it has issued the certificate:
it can sign nothing else.  An operator replaces the pair with an imported PKCS#12
(`tenderhall archive import-signer`).

Signatures are PAdES (ETSI.CAdES.detached).  With a time-stamping authority (RFC 3161) they are
PAdES B-LTA: a signature timestamp, the validation data (certificates, CRLs or OCSP answers)
embedded in the document security store, then a document timestamp over all of it, so the
archive stays verifiable offline after its certificates expire.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from tenderhall.files import write_bytes

SIGNER_FILE = "archive-signing.pem"
# How long the generated certificates last.  Archives signed with a timestamp outlive them (B-LTA);
# a new pair is made by removing the file (or importing one) — old archives keep verifying.
CA_YEARS = 30
SIGNER_YEARS = 10
MAX_PKCS12_BYTES = 1 << 20

T = TypeVar("T")
SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class SignerError(ValueError):
    """The signing key or certificate is unusable; the text says why (one line)."""


@dataclass(frozen=True)
class ArchiveSigner:
    """A signing key and its certificate chain: the signer's certificate first, the root last."""

    key: SigningKey
    chain: tuple[x509.Certificate, ...]

    def __post_init__(self) -> None:
        if not self.chain:
            raise SignerError("the signer has no certificate")
        if self.key.public_key().public_numbers() != self.chain[0].public_key().public_numbers():  # type: ignore[union-attr]
            raise SignerError("the private key does not belong to the first certificate")

    def __repr__(self) -> str:  # never print key material by accident
        return f"ArchiveSigner(subject={self.certificate.subject.rfc4514_string()!r})"

    @property
    def certificate(self) -> x509.Certificate:
        return self.chain[0]

    @property
    def root(self) -> x509.Certificate:
        """The trust anchor archives are checked against: the top of the chain."""
        return self.chain[-1]

    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def to_pem(self) -> bytes:
        key = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return key + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)

    @classmethod
    def from_pem(cls, data: bytes) -> ArchiveSigner:
        try:
            key = serialization.load_pem_private_key(data, password=None)
            chain = tuple(x509.load_pem_x509_certificates(data))
        except ValueError as exc:
            raise SignerError(f"not a PEM private key with certificates: {exc}") from None
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise SignerError("the signing key must be RSA or ECDSA")
        return cls(key, chain)

    @classmethod
    def from_pkcs12(cls, data: bytes, passphrase: bytes | None) -> ArchiveSigner:
        """An operator's PKCS#12: its key, certificate and the chain it carries, ordered signer first."""
        if len(data) > MAX_PKCS12_BYTES:
            raise SignerError(f"the PKCS#12 file is larger than {MAX_PKCS12_BYTES} bytes")
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, passphrase or None)
        except (ValueError, TypeError) as exc:
            raise SignerError(
                f"cannot open the PKCS#12 file (wrong passphrase or not PKCS#12): {exc}"
            ) from None
        if key is None or cert is None:
            raise SignerError("the PKCS#12 file holds no private key with its certificate")
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise SignerError("the signing key must be RSA or ECDSA")
        signer = cls(key, (cert, *_order_chain(cert, list(extra))))
        now = dt.datetime.now(dt.UTC)
        if not signer.certificate.not_valid_before_utc <= now < signer.certificate.not_valid_after_utc:
            raise SignerError("the certificate in the PKCS#12 file is not valid now")
        return signer

    @classmethod
    def generate(cls, name: str) -> ArchiveSigner:
        """A fresh internal CA and the signing certificate it issues; the CA key is not kept."""
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        ca_name = _name(f"{name} archive CA")
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(f"{name} archive signing"))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=365 * SIGNER_YEARS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            # No extended key usage: NSS (poppler's pdfsig) would then ask for emailProtection.
            .add_extension(_usage(cert_sign=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        return cls(key, (cert, ca))


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "TenderHall"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=not cert_sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _order_chain(leaf: x509.Certificate, others: list[x509.Certificate]) -> list[x509.Certificate]:
    """The issuers of ``leaf`` from ``others``, in order up to a root; unrelated certificates last."""
    ordered: list[x509.Certificate] = []
    current = leaf
    while current.issuer != current.subject:
        issuer = next((c for c in others if c.subject == current.issuer and c not in ordered), None)
        if issuer is None:
            break
        ordered.append(issuer)
        current = issuer
    return ordered + [c for c in others if c not in ordered]


def load_or_create(secrets_dir: Path, name: str) -> ArchiveSigner:
    """The platform's archive signer, made on first start (by whichever worker gets there first)."""
    path = secrets_dir / SIGNER_FILE
    secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        fresh = ArchiveSigner.generate(name)
        try:
            write_bytes(path, fresh.to_pem(), replace=False)
            return fresh
        except FileExistsError:
            pass  # another worker made one a moment earlier: use that one
    signer = read(secrets_dir)
    if signer is None:  # removed between the two steps: nothing sensible to do but say so
        raise SignerError(f"{path} disappeared while starting")
    return signer


def read(secrets_dir: Path) -> ArchiveSigner | None:
    """The stored signer, or None where none was made yet (read only: verifiers use this)."""
    path = secrets_dir / SIGNER_FILE
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        return None
    if mode & 0o077:
        raise SignerError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
    try:
        return ArchiveSigner.from_pem(path.read_bytes())
    except SignerError as exc:
        raise SignerError(f"{path}: {exc}") from None


def install(secrets_dir: Path, signer: ArchiveSigner) -> Path:
    """Replace the stored signer (whole or not at all); running workers pick it up on restart."""
    secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = secrets_dir / SIGNER_FILE
    write_bytes(path, signer.to_pem(), replace=True)
    return path


def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``fn`` here, or in a worker thread when this thread runs an event loop: pyHanko's
    synchronous API starts an event loop of its own.  Async callers should rather use
    ``anyio.to_thread.run_sync``, which does not block their loop meanwhile."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def sign_archive(
    pdf_bytes: bytes,
    signer: ArchiveSigner,
    *,
    tsa_url: str | None = None,
    tsa_trust: Sequence[x509.Certificate] = (),
    timeout: float = 30.0,
) -> bytes:
    """The PDF with the platform's PAdES signature appended as an incremental update.

    With ``tsa_url``: B-LTA (signature timestamp, embedded validation data, document timestamp).
    ``tsa_trust`` are the TSA's roots (empty: the system's trust store), needed to collect the
    validation data of its certificates.  CPU-bound and, with a TSA, waits on the network: from
    async code call it through ``anyio.to_thread.run_sync``.
    """
    return off_loop(_sign, pdf_bytes, signer, tsa_url, tuple(tsa_trust), timeout)


def _sign(
    pdf_bytes: bytes,
    signer: ArchiveSigner,
    tsa_url: str | None,
    tsa_trust: tuple[x509.Certificate, ...],
    timeout: float,
) -> bytes:
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers, timestamps
    from pyhanko.sign.fields import SigSeedSubFilter
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    def der(cert: x509.Certificate) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))

    key = asn1_keys.PrivateKeyInfo.load(
        signer.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    chain = [der(c) for c in signer.chain]
    cms_signer = signers.SimpleSigner(
        signing_cert=chain[0],
        signing_key=key,
        cert_registry=SimpleCertificateStore.from_certs(chain),  # type: ignore[no-untyped-call]
    )
    timestamper = None
    context = None
    if tsa_url:
        timestamper = timestamps.HTTPTimeStamper(tsa_url, timeout=int(timeout))
        roots = [chain[-1], *(der(c) for c in tsa_trust)] if tsa_trust else None
        context = ValidationContext(
            trust_roots=roots, extra_trust_roots=[chain[-1]] if roots is None else None, allow_fetching=True
        )
    meta = signers.PdfSignatureMetadata(
        field_name="TenderHallArchive",
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        embed_validation_info=tsa_url is not None,
        use_pades_lta=tsa_url is not None,
        validation_context=context,
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes), strict=False)
    out = signers.PdfSigner(meta, cms_signer, timestamper=timestamper).sign_pdf(writer, in_place=False)
    return bytes(out.getvalue())


@dataclass(frozen=True)
class ArchiveSigning:
    """The long-lived signing service: the platform's signer and the configured TSA, if any."""

    signer: ArchiveSigner
    tsa_url: str | None = None
    tsa_trust: tuple[x509.Certificate, ...] = ()

    @classmethod
    def from_settings(cls, secrets_dir: Path, name: str, tsa_url: str, tsa_trust: str) -> ArchiveSigning:
        roots: tuple[x509.Certificate, ...] = ()
        if tsa_trust:
            try:
                roots = tuple(x509.load_pem_x509_certificates(Path(tsa_trust).read_bytes()))
            except (OSError, ValueError) as exc:
                raise SignerError(f"TENDERHALL_TSA_TRUST: {exc}") from None
        return cls(load_or_create(secrets_dir, name), tsa_url or None, roots)

    def sign(self, pdf_bytes: bytes) -> bytes:
        return sign_archive(pdf_bytes, self.signer, tsa_url=self.tsa_url, tsa_trust=self.tsa_trust)
