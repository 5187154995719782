"""HPKE (RFC 9180 base mode, X25519 / HKDF-SHA256 / ChaCha20-Poly1305) against RFC 9180 A.2.1.

The module under test wraps cryptography's HPKE, whose ephemeral key cannot be injected. So a small
independent reference of the RFC's key schedule lives here; it must reproduce every published
intermediate value, and then our module and the reference must open each other's messages.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bidding.envelope import hpke

# RFC 9180, Appendix A.2.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305, Base Setup,
# and its first encryption (sequence number 0). mode 0, kem_id 32, kdf_id 1, aead_id 3.
RFC = {
    "info": "4f6465206f6e2061204772656369616e2055726e",
    "ikmE": "909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b",
    "pkEm": "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
    "skEm": "f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600",
    "ikmR": "1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df",
    "pkRm": "4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a",
    "skRm": "8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb",
    "enc": "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
    "shared_secret": "0bbe78490412b4bbea4812666f7916932b828bba79942424abb65244930d69a7",
    "key_schedule_context": "00431df6cd95e11ff49d7013563baf7f11588c75a6611ee2a4404a49306ae4cf"
    "c5b69c5718a60cc5876c358d3f7fc31ddb598503f67be58ea1e798c0bb19eb9796",
    "secret": "5b9cd775e64b437a2335cf499361b2e0d5e444d5cb41a8a53336d8fe402282c6",
    "key": "ad2744de8e17f4ebba575b3f5f5a8fa1f69c2a07f6e7500bc60ca6e3e3ec1c91",
    "base_nonce": "5c4d98150661b848853b547f",
    "pt": "4265617574792069732074727574682c20747275746820626561757479",
    "aad": "436f756e742d30",
    "ct": "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28",
}
V = {name: bytes.fromhex(value) for name, value in RFC.items()}

KEM_SUITE = b"KEM" + (0x0020).to_bytes(2, "big")
HPKE_SUITE = b"HPKE" + (0x0020).to_bytes(2, "big") + (0x0001).to_bytes(2, "big") + (0x0003).to_bytes(2, "big")


def labeled_extract(suite: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt or bytes(32), b"HPKE-v1" + suite + label + ikm, hashlib.sha256).digest()


def labeled_expand(suite: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    labeled = length.to_bytes(2, "big") + b"HPKE-v1" + suite + label + info
    return HKDFExpand(hashes.SHA256(), length, labeled).derive(prk)


def derive_key_pair(ikm: bytes) -> tuple[bytes, bytes]:
    sk = labeled_expand(KEM_SUITE, labeled_extract(KEM_SUITE, b"", b"dkp_prk", ikm), b"sk", b"", 32)
    pk = X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return sk, pk


def kem_shared_secret(dh: bytes, enc: bytes, pk_r: bytes) -> bytes:
    prk = labeled_extract(KEM_SUITE, b"", b"eae_prk", dh)
    return labeled_expand(KEM_SUITE, prk, b"shared_secret", enc + pk_r, 32)


def key_schedule(shared: bytes, info: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    context = (
        b"\x00"
        + labeled_extract(HPKE_SUITE, b"", b"psk_id_hash", b"")
        + labeled_extract(HPKE_SUITE, b"", b"info_hash", info)
    )
    secret = labeled_extract(HPKE_SUITE, shared, b"secret", b"")
    key = labeled_expand(HPKE_SUITE, secret, b"key", context, 32)
    nonce = labeled_expand(HPKE_SUITE, secret, b"base_nonce", context, 12)
    return context, secret, key, nonce


def reference_seal(pk_r: bytes, info: bytes, aad: bytes, pt: bytes, ikm_e: bytes) -> bytes:
    sk_e, enc = derive_key_pair(ikm_e)
    dh = X25519PrivateKey.from_private_bytes(sk_e).exchange(X25519PublicKey.from_public_bytes(pk_r))
    _, _, key, nonce = key_schedule(kem_shared_secret(dh, enc, pk_r), info)
    return enc + ChaCha20Poly1305(key).encrypt(nonce, pt, aad)


def reference_open(sk_r: bytes, info: bytes, aad: bytes, sealed: bytes) -> bytes:
    enc, ct = sealed[:32], sealed[32:]
    private = X25519PrivateKey.from_private_bytes(sk_r)
    pk_r = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    dh = private.exchange(X25519PublicKey.from_public_bytes(enc))
    _, _, key, nonce = key_schedule(kem_shared_secret(dh, enc, pk_r), info)
    return ChaCha20Poly1305(key).decrypt(nonce, ct, aad)


def test_reference_reproduces_rfc_9180_a21() -> None:
    assert derive_key_pair(V["ikmE"]) == (V["skEm"], V["pkEm"])
    assert derive_key_pair(V["ikmR"]) == (V["skRm"], V["pkRm"])
    dh = X25519PrivateKey.from_private_bytes(V["skEm"]).exchange(X25519PublicKey.from_public_bytes(V["pkRm"]))
    shared = kem_shared_secret(dh, V["enc"], V["pkRm"])
    assert shared == V["shared_secret"]
    assert key_schedule(shared, V["info"]) == (
        V["key_schedule_context"],
        V["secret"],
        V["key"],
        V["base_nonce"],
    )
    assert reference_seal(V["pkRm"], V["info"], V["aad"], V["pt"], V["ikmE"]) == V["enc"] + V["ct"]
    assert reference_open(V["skRm"], V["info"], V["aad"], V["enc"] + V["ct"]) == V["pt"]


def test_cryptography_hpke_opens_rfc_ciphertext() -> None:
    """The RFC ciphertext uses aad "Count-0"; only cryptography's private helper takes an aad."""
    from cryptography.hazmat.bindings._rust import openssl as rust_openssl

    decrypt_with_aad = getattr(rust_openssl.hpke, "_decrypt_with_aad", None)
    if decrypt_with_aad is None:
        pytest.skip("this cryptography version has no aad-taking HPKE helper")
    private = X25519PrivateKey.from_private_bytes(V["skRm"])
    assert decrypt_with_aad(hpke._SUITE, V["enc"] + V["ct"], private, V["info"], V["aad"]) == V["pt"]


def test_open_base_matches_reference_with_rfc_keys() -> None:
    sealed = reference_seal(V["pkRm"], V["info"], b"", V["pt"], V["ikmE"])
    assert sealed[:32] == V["enc"]
    assert hpke.open_base(X25519PrivateKey.from_private_bytes(V["skRm"]), V["info"], sealed) == V["pt"]


def test_seal_base_opens_with_reference() -> None:
    public = X25519PublicKey.from_public_bytes(V["pkRm"])
    sealed = hpke.seal_base(public, V["info"], V["pt"])
    assert len(sealed) == 32 + len(V["pt"]) + 16
    assert reference_open(V["skRm"], V["info"], b"", sealed) == V["pt"]


def test_open_base_rejects_wrong_info_key_tamper_and_low_order() -> None:
    private = X25519PrivateKey.generate()
    sealed = hpke.seal_base(private.public_key(), b"info", b"x" * 16)
    assert hpke.open_base(private, b"info", sealed) == b"x" * 16
    with pytest.raises(hpke.HpkeError):
        hpke.open_base(private, b"other", sealed)
    with pytest.raises(hpke.HpkeError):
        hpke.open_base(X25519PrivateKey.generate(), b"info", sealed)
    for pos in (0, 31, 32, len(sealed) - 1):
        bad = bytearray(sealed)
        bad[pos] ^= 1
        with pytest.raises(hpke.HpkeError):
            hpke.open_base(private, b"info", bytes(bad))
    with pytest.raises(hpke.HpkeError):
        hpke.open_base(private, b"info", bytes(32) + sealed[32:])  # low-order (zero) enc
    with pytest.raises(hpke.HpkeError):
        hpke.open_base(private, b"info", sealed[:40])
