"""High-level sealing and opening of bid envelopes (age v1 files).

Layout: one native X25519 stanza for the bidder (so any age tool opens it), then, if the tender
defines a custodian remedy, n ``tenderhall.org/share`` stanzas; the header MAC covers them all.
"""

from __future__ import annotations

import hmac
import itertools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from . import shamir
from ._io import Sink, Source
from .custodian import (
    SHARE_STANZA_TYPE,
    Binding,
    Custodian,
    Share,
    ShareStanza,
    open_share,
    parse_share_stanza,
    wrap_share,
)
from .errors import HeaderError, NoIdentityMatched, ParameterError, ShareError
from .header import FILE_KEY_SIZE, Header, b64decode_canonical, build_header, header_mac, parse_header
from .keys import X25519_STANZA_TYPE, X25519Identity, X25519Recipient
from .stream import decrypt_payload, encrypt_payload

__all__ = [
    "MAX_RECOVERY_ATTEMPTS",
    "Recovery",
    "check_structure",
    "open_custodian_share",
    "open_with_file_key",
    "open_with_identity",
    "recover_file_key",
    "seal",
    "share_stanzas",
    "unwrap_file_key",
    "verify_file_key",
]

# Bound on k-subsets tried when some released shares are bad; each try is one HMAC.
MAX_RECOVERY_ATTEMPTS = 100_000


def seal(
    plaintext: Source,
    out: Sink,
    bidder: X25519Recipient,
    custodians: Sequence[Custodian] = (),
    k: int | None = None,
    binding: Binding | None = None,
) -> int:
    """Encrypt ``plaintext`` to ``bidder`` (plus k-of-n custodian shares if ``custodians``).

    Writes the age file to ``out`` and returns its length in bytes.
    """
    file_key = os.urandom(FILE_KEY_SIZE)
    stanzas = [bidder.wrap(file_key)]
    if custodians:
        if k is None or binding is None:
            raise ParameterError("custodian shares need both k and a binding (tender id, bid id)")
        ids = [c.id for c in custodians]
        if len(set(ids)) != len(ids):
            raise ParameterError("custodian ids must be unique")
        for custodian, (index, value) in zip(
            custodians, shamir.split(file_key, k, len(custodians)), strict=True
        ):
            stanzas.append(wrap_share(binding, custodian, index, k, len(custodians), value))
    elif k is not None:
        raise ParameterError("k given without custodians")
    header = build_header(stanzas, file_key).encode()
    out.write(header)
    return len(header) + encrypt_payload(plaintext, out, file_key)


def verify_file_key(header: Header, file_key: bytes) -> None:
    """Raise MacError unless ``file_key`` is the key of this envelope (checks the header MAC)."""
    header.verify(file_key)


def unwrap_file_key(header: Header, identities: Iterable[X25519Identity]) -> bytes:
    """Unwrap and MAC-check the file key with the first matching identity.

    Raises HeaderError (malformed X25519 stanza), NoIdentityMatched or MacError.
    """
    idents = list(identities)
    for stanza in header.stanzas:
        for identity in idents:
            file_key = identity.unwrap(stanza)
            if file_key is not None:
                header.verify(file_key)
                return file_key
    raise NoIdentityMatched("no X25519 stanza in the header opens with the given identities")


def open_with_identity(envelope: Source, out: Sink, identities: Iterable[X25519Identity]) -> int:
    """Decrypt a whole envelope with the bidder's identity; returns the plaintext length."""
    header, _ = parse_header(envelope)
    return decrypt_payload(envelope, out, unwrap_file_key(header, identities))


def open_with_file_key(envelope: Source, out: Sink, file_key: bytes) -> int:
    """Decrypt with a file key sent by the bidder or recovered from shares, after checking it
    against the header MAC (so a bidder cannot substitute content)."""
    header, _ = parse_header(envelope)
    header.verify(file_key)
    return decrypt_payload(envelope, out, file_key)


def share_stanzas(header: Header) -> list[ShareStanza]:
    """All custodian stanzas of ``header``, validated; raises HeaderError if malformed."""
    return [parse_share_stanza(s) for s in header.stanzas if s.type == SHARE_STANZA_TYPE]


def check_structure(header: Header, *, custodian_ids: Sequence[str] = (), k: int | None = None) -> None:
    """Server-side policy check (no key needed): exactly one well-formed X25519 stanza and exactly
    the tender's custodian stanzas (each id once, indices 1..n, the tender's k and n = number of
    custodians); no other stanza types. The MAC cannot be checked without the file key.
    """
    x25519 = [s for s in header.stanzas if s.type == X25519_STANZA_TYPE]
    if len(x25519) != 1:
        raise HeaderError(f"envelope must have exactly one X25519 stanza, found {len(x25519)}")
    stanza = x25519[0]
    if len(stanza.args) != 1 or len(stanza.body) != FILE_KEY_SIZE + 16:
        raise HeaderError("X25519 stanza is malformed")
    if len(b64decode_canonical(stanza.args[0].encode("ascii"))) != 32:
        raise HeaderError("X25519 stanza share is not 32 bytes")
    others = {s.type for s in header.stanzas} - {X25519_STANZA_TYPE, SHARE_STANZA_TYPE}
    if others:
        raise HeaderError(f"unexpected stanza types {sorted(others)}")
    shares = share_stanzas(header)
    n = len(custodian_ids)
    if n == 0:
        if shares:
            raise HeaderError("tender has no custodians but the envelope carries share stanzas")
        return
    if k is None:
        raise ParameterError("k is required when custodian ids are given")
    shamir.check_threshold(k, n)
    found = [s.custodian_id for s in shares]
    if sorted(found) != sorted(custodian_ids) or len(set(found)) != len(found):
        raise HeaderError(f"share stanzas are for custodians {found}, expected {sorted(custodian_ids)}")
    if sorted(s.index for s in shares) != list(range(1, n + 1)):
        raise HeaderError(f"share indices must be exactly 1..{n}")
    bad = [s.custodian_id for s in shares if (s.k, s.n) != (k, n)]
    if bad:
        raise HeaderError(f"share stanzas of {bad} do not say k={k} n={n}")


def open_custodian_share(
    header: Header, binding: Binding, custodian_id: str, private_key: X25519PrivateKey
) -> Share:
    """What a custodian runs: find its stanza and open it under the bid's binding."""
    mine = [s for s in share_stanzas(header) if s.custodian_id == custodian_id]
    if len(mine) != 1:
        raise ShareError(f"envelope has {len(mine)} share stanzas for custodian {custodian_id!r}")
    return open_share(mine[0], binding, private_key)


@dataclass(frozen=True, slots=True)
class Recovery:
    """The recovered file key and which given shares disagreed with it."""

    file_key: bytes
    bad_custodians: tuple[str, ...]

    def __repr__(self) -> str:  # the key is secret material
        return f"Recovery(bad_custodians={self.bad_custodians})"


def _threshold(header: Header, shares: Sequence[Share]) -> int:
    stanzas = share_stanzas(header)
    params = {(s.k, s.n) for s in stanzas}
    if len(params) != 1:
        raise ShareError("envelope has no share stanzas or they disagree on k and n")
    slots = {(s.custodian_id, s.index) for s in stanzas}
    for share in shares:
        if (share.custodian_id, share.index) not in slots:
            raise ShareError(f"no share stanza for custodian {share.custodian_id!r} with index {share.index}")
    return params.pop()[0]


def recover_file_key(header: Header, shares: Sequence[Share]) -> Recovery:
    """Recover the file key from >= k released shares and check it against the header MAC.

    With more than k shares, bad ones are tolerated and reported (shares inconsistent with the
    verified polynomial); with exactly k a bad share cannot be identified. Raises ShareError.
    """
    points = [(s.index, s.value) for s in shares]
    indices = [i for i, _ in points]
    if len(set(indices)) != len(indices):
        raise ShareError(f"duplicate share indices in {sorted(indices)}")
    k = _threshold(header, shares)
    if any(len(v) != FILE_KEY_SIZE for _, v in points):
        raise ShareError(f"a share value is {FILE_KEY_SIZE} bytes")
    if len(points) < k:
        raise ShareError(f"need at least k={k} shares, got {len(points)}: fewer than k open nothing")
    mac_input = header.mac_input()
    for attempt, subset in enumerate(itertools.combinations(points, k)):
        if attempt == MAX_RECOVERY_ATTEMPTS:
            break
        candidate = shamir.combine(subset)
        if hmac.compare_digest(header_mac(candidate, mac_input), header.mac):
            bad = tuple(s.custodian_id for s in shares if shamir.interpolate(subset, s.index) != s.value)
            return Recovery(candidate, bad)
    if len(points) == k:
        raise ShareError(f"the {k} shares do not reconstruct the file key; at least one is bad")
    raise ShareError("no k-subset of the shares reconstructs the file key (too many bad shares)")
