"""Bad input and attacks on the browser's envelope modules: a sealing answer or key it cannot use
is refused before any byte is sealed, with a clear message; a tampered, truncated or foreign
envelope, a share moved to another bid or relabelled, and a wrong key all fail."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest

from bidding import sealed
from bidding.envelope import Binding, ShareError, X25519Identity, open_custodian_share, parse_header
from tests.frontend.conftest import Page, b64
from tests.frontend.test_envelope_interop import BID, TENDER, browser_seal, custodians, sealing

SEAL = "await env.seal(new Uint8Array(8), a.sealing, a.bid, a.recipient);"


def _answer(k: int = 2, n: int = 3) -> dict[str, Any]:
    return sealing(custodians(n), k)


def _slots(answer: dict[str, Any]) -> list[dict[str, str]]:
    return answer["remedy"]["custodians"]  # type: ignore[no-any-return]


def _bad_answers() -> list[tuple[str, dict[str, Any], str]]:
    duplicate = _answer()
    _slots(duplicate)[1]["id"] = _slots(duplicate)[0]["id"]
    spaced = _answer()
    _slots(spaced)[0]["id"] = "cust 1"
    long_id = _answer()
    _slots(long_id)[0]["id"] = "c" * 65
    bad_key = _answer()
    _slots(bad_key)[2]["public_key"] = _slots(bad_key)[2]["public_key"][:-1] + "q"
    secret_key = _answer()
    _slots(secret_key)[0]["public_key"] = str(X25519Identity.generate()).lower()
    bad_tender = _answer()
    bad_tender["tender"] = "SH/2026/0009"
    return [
        ("k = 1", _answer(k=1), "threshold k"),
        ("k > n", _answer(k=4), "threshold k"),
        ("one custodian", sealing(custodians(1), 1), "number of custodians"),
        ("duplicate custodian ids", duplicate, "unique"),
        ("a space in an id", spaced, "custodian id"),
        ("a 65-character id", long_id, "custodian id"),
        ("a bad checksum", bad_key, "Bech32"),
        ("a secret key as public key", secret_key, "age1..."),
        ("a tender id with slashes", bad_tender, "tender id"),
    ]


@pytest.mark.parametrize(("case", "answer", "message"), _bad_answers(), ids=[c[0] for c in _bad_answers()])
def test_a_sealing_answer_it_cannot_use_is_refused(
    browser_page: Page, case: str, answer: dict[str, Any], message: str
) -> None:
    recipient = str(X25519Identity.generate().recipient)
    error = browser_page.error(SEAL, {"sealing": answer, "bid": BID, "recipient": recipient})
    assert message in error, (case, error)


@pytest.mark.parametrize(
    ("bid", "recipient", "message"),
    [
        ("bid/1", None, "bid id"),
        ("", None, "bid id"),
        (BID, "AGE1" + "Q" * 58, "lower-case"),
        (BID, "age1notakey", "Bech32"),
        (BID, "", "lower-case"),
    ],
)
def test_a_bad_bid_id_or_recipient_is_refused(
    browser_page: Page, bid: str, recipient: str | None, message: str
) -> None:
    recipient = recipient if recipient is not None else str(X25519Identity.generate().recipient)
    for answer in (_answer(), sealing([], 0)):
        error = browser_page.error(SEAL, {"sealing": answer, "bid": bid, "recipient": recipient})
        assert message in error, error


def test_tampering_truncation_and_a_wrong_key_fail_in_the_browser(browser_page: Page) -> None:
    bidder = X25519Identity.generate()
    plain = os.urandom(3 * 65536 + 5)
    blob = sealed.seal_bytes(plain, bidder.recipient, None, TENDER, BID)
    _, header_length = parse_header(io.BytesIO(blob))
    opened = "await collect(await env.open(bytes(a.blob), a.identity));"

    def attempt(data: bytes, identity: X25519Identity = bidder) -> str:
        return browser_page.error(opened, {"blob": b64(data), "identity": str(identity)})

    flipped = bytearray(blob)
    flipped[header_length + 16 + 70_000] ^= 1
    assert attempt(bytes(flipped))
    assert attempt(blob[: header_length + 16 + 2 * (65536 + 16)])  # the last chunk dropped
    assert attempt(blob + b"\x00")  # trailing data
    assert "no identity matched" in attempt(blob, X25519Identity.generate())
    mac = bytearray(blob)
    mac[header_length - 5] ^= 0x01  # inside the MAC's base64
    assert attempt(bytes(mac))
    unwrap = "await env.unwrapFileKey(bytes(a.blob), a.identity);"
    assert browser_page.error(unwrap, {"blob": b64(bytes(mac)), "identity": str(bidder)})
    assert browser_page.error(unwrap, {"blob": b64(b"not an age file\n"), "identity": str(bidder)})


def test_a_share_does_not_open_for_another_bid_or_custodian_or_index(browser_page: Page) -> None:
    bidder = X25519Identity.generate()
    parties = custodians(3)
    blob = browser_seal(browser_page, b"bid", sealing(parties, 2), str(bidder.recipient))
    header, _ = parse_header(io.BytesIO(blob))
    (first, key), (second, other) = parties[0], parties[1]

    # The Python codec refuses the browser's stanza under another binding or key ...
    with pytest.raises(ShareError):
        open_custodian_share(header, Binding(TENDER, "another-bid"), first, key.private_key)
    with pytest.raises(ShareError):
        open_custodian_share(header, Binding("another-tender", BID), first, key.private_key)
    with pytest.raises(ShareError):
        open_custodian_share(header, Binding(TENDER, BID), first, other.private_key)

    # ... and so does the browser.
    share = "await env.custodianShare(bytes(a.blob), a.tender, a.bid, a.id, a.identity);"
    base = {"blob": b64(blob), "tender": TENDER, "bid": BID, "id": first, "identity": str(key)}
    assert "does not open" in browser_page.error(share, {**base, "bid": "another-bid"})
    assert "does not open" in browser_page.error(share, {**base, "identity": str(other)})
    assert "no single share" in browser_page.error(share, {**base, "id": "nobody"})

    # A stanza relabelled with another index no longer opens (the index is in the HPKE info).
    line = f"-> tenderhall.org/share {first} 1 2 3\n".encode()
    assert line in blob
    relabelled = blob.replace(line, f"-> tenderhall.org/share {first} 3 2 3\n".encode())
    assert "does not open" in browser_page.error(share, {**base, "blob": b64(relabelled)})
    assert browser_page.error(share, {**base, "id": second, "identity": str(key)})


def test_recovery_needs_k_good_shares(browser_page: Page) -> None:
    bidder = X25519Identity.generate()
    parties = custodians(3)
    blob = sealed.seal_bytes(b"bid", bidder.recipient, sealing(parties, 2)["remedy"], TENDER, BID)
    header, _ = parse_header(io.BytesIO(blob))
    shares = [open_custodian_share(header, Binding(TENDER, BID), c, k.private_key) for c, k in parties]
    recover = "await env.recoverFileKey(bytes(a.blob), a.shares.map(([i, v]) => [i, bytes(v)]), 2);"
    one = [[shares[0].index, b64(shares[0].value)]]
    assert "2 needed" in browser_page.error(recover, {"blob": b64(blob), "shares": one})
    bad = [*one, [shares[1].index, b64(os.urandom(16))]]
    assert "authenticate" in browser_page.error(recover, {"blob": b64(blob), "shares": bad})
