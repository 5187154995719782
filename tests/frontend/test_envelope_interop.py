"""The browser's envelope is byte-compatible with bidding/envelope/, both ways: sealed in Chromium
it passes the server's structure check, opens with the Python codec and with pyrage, and its
custodian shares recover the file key in Python; sealed by the Python codec it opens in the
browser, which unwraps the same file key, opens the same shares and recovers from them."""

from __future__ import annotations

import io
import os
from itertools import combinations
from typing import Any

import pytest

from bidding import sealed
from bidding.envelope import (
    Binding,
    X25519Identity,
    check_structure,
    open_custodian_share,
    open_with_identity,
    parse_header,
    recover_file_key,
    unwrap_file_key,
)
from tests.frontend.conftest import Page, b64, unb64

pyrage = pytest.importorskip("pyrage")

TENDER = "6f1c2a3e-3b8e-4a59-9f59-0c2a7e1d5b10"
BID = "bid-2026.0009:a_1"
# Empty, one byte, chunk boundaries (64 KiB STREAM chunks) and a few chunks with a short tail.
SIZES = [0, 1, 65535, 65536, 65537, 3 * 65536 + 17]

SEAL = """
const stream = await env.seal(bytes(a.plain), a.sealing, a.bid, a.recipient);
const out = await collect(stream);
if (out.length !== stream.size(a.size)) throw new Error("size() disagrees with the output");
return b64(out);
"""


def custodians(n: int) -> list[tuple[str, X25519Identity]]:
    return [(f"cust-{i + 1}", X25519Identity.generate()) for i in range(n)]


def sealing(parties: list[tuple[str, X25519Identity]], k: int) -> dict[str, Any]:
    """What GET /api/v1/bidding/tenders/{id}/sealing answers (the part sealing reads)."""
    if not parties:
        return {"tender": TENDER, "remedy": None}
    slots = [{"id": cid, "public_key": str(identity.recipient)} for cid, identity in parties]
    return {"tender": TENDER, "remedy": {"k": k, "n": len(parties), "custodians": slots}}


def browser_seal(page: Page, plain: bytes, answer: dict[str, Any], recipient: str, bid: str = BID) -> bytes:
    args = {"plain": b64(plain), "size": len(plain), "sealing": answer, "bid": bid, "recipient": recipient}
    return unb64(page.run(SEAL, args))


def python_open(blob: bytes, identity: X25519Identity) -> bytes:
    out = io.BytesIO()
    open_with_identity(io.BytesIO(blob), out, [identity])
    return out.getvalue()


@pytest.mark.parametrize("size", SIZES)
def test_sealed_in_the_browser_opens_in_python_and_pyrage(browser_page: Page, size: int) -> None:
    bidder = X25519Identity.generate()
    parties = custodians(3)
    plain = os.urandom(size)
    blob = browser_seal(browser_page, plain, sealing(parties, 2), str(bidder.recipient))

    header, length = parse_header(io.BytesIO(blob))  # strict: canonical re-encoding, limits
    check_structure(header, custodian_ids=[cid for cid, _ in parties], k=2)
    assert [s.type for s in header.stanzas] == ["X25519", *["tenderhall.org/share"] * 3]
    assert [s.args[1:] for s in header.stanzas[1:]] == [(str(i), "2", "3") for i in (1, 2, 3)]
    assert len(blob) == length + 16 + size + 16 * max(1, -(-size // 65536))
    assert python_open(blob, bidder) == plain
    assert pyrage.decrypt(blob, [pyrage.x25519.Identity.from_str(str(bidder))]) == plain

    # Every pair of custodians recovers the very file key the bidder's stanza wraps, and all
    # three shares lie on one polynomial of degree k - 1 (no custodian reported as disagreeing).
    file_key = unwrap_file_key(header, [bidder])
    binding = Binding(TENDER, BID)
    shares = [open_custodian_share(header, binding, cid, key.private_key) for cid, key in parties]
    for pair in combinations(shares, 2):
        assert recover_file_key(header, pair).file_key == file_key
    recovery = recover_file_key(header, shares)
    assert recovery.file_key == file_key
    assert recovery.bad_custodians == ()


def test_more_custodians_and_a_higher_threshold(browser_page: Page) -> None:
    """k = 4 of n = 7: shares 4..7 come from interpolating the translated polynomial."""
    bidder = X25519Identity.generate()
    parties = custodians(7)
    blob = browser_seal(browser_page, b"tender documents", sealing(parties, 4), str(bidder.recipient))
    header, _ = parse_header(io.BytesIO(blob))
    check_structure(header, custodian_ids=[cid for cid, _ in parties], k=4)
    file_key = unwrap_file_key(header, [bidder])
    binding = Binding(TENDER, BID)
    shares = [open_custodian_share(header, binding, cid, key.private_key) for cid, key in parties]
    for group in combinations(shares, 4):
        assert recover_file_key(header, group).file_key == file_key
    with pytest.raises(Exception, match="need at least k=4"):
        recover_file_key(header, shares[:3])
    assert recover_file_key(header, shares).bad_custodians == ()


def test_a_tender_without_custodians_gets_the_bidder_stanza_only(browser_page: Page) -> None:
    bidder = X25519Identity.generate()
    blob = browser_seal(browser_page, b"x" * 70_000, sealing([], 0), str(bidder.recipient))
    header, _ = parse_header(io.BytesIO(blob))
    check_structure(header)
    assert [s.type for s in header.stanzas] == ["X25519"]
    assert python_open(blob, bidder) == b"x" * 70_000


def test_each_seal_is_fresh(browser_page: Page) -> None:
    bidder = X25519Identity.generate()
    answer = sealing(custodians(2), 2)
    one = browser_seal(browser_page, b"same", answer, str(bidder.recipient))
    two = browser_seal(browser_page, b"same", answer, str(bidder.recipient))
    assert one != two
    first, _ = parse_header(io.BytesIO(one))
    second, _ = parse_header(io.BytesIO(two))
    assert unwrap_file_key(first, [bidder]) != unwrap_file_key(second, [bidder])


@pytest.mark.parametrize("size", [0, 65536, 200_001])
def test_sealed_in_python_opens_in_the_browser(browser_page: Page, size: int) -> None:
    bidder = X25519Identity.generate()
    parties = custodians(3)
    plain = os.urandom(size)
    blob = sealed.seal_bytes(plain, bidder.recipient, sealing(parties, 2)["remedy"], TENDER, BID)
    header, _ = parse_header(io.BytesIO(blob))
    file_key = unwrap_file_key(header, [bidder])

    opened = browser_page.run(
        "return b64(await collect(await env.open(bytes(a.blob), a.identity)));",
        {"blob": b64(blob), "identity": str(bidder)},
    )
    assert unb64(opened) == plain
    unwrapped = browser_page.run(
        "return b64(await env.unwrapFileKey(bytes(a.blob), a.identity));",
        {"blob": b64(blob), "identity": str(bidder)},
    )
    assert unb64(unwrapped) == file_key

    # Each custodian opens its own share in the browser, as the Python codec does.
    binding = Binding(TENDER, BID)
    released = []
    for cid, key in parties:
        index, value = browser_page.run(
            "const [i, v] = await env.custodianShare(bytes(a.blob), a.tender, a.bid, a.id, a.identity);"
            " return [i, b64(v)];",
            {"blob": b64(blob), "tender": TENDER, "bid": BID, "id": cid, "identity": str(key)},
        )
        share = open_custodian_share(header, binding, cid, key.private_key)
        assert (index, unb64(value)) == (share.index, share.value)
        released.append([index, value])

    # Any two recover the file key in the browser (checked against the header MAC), and a bad
    # third share is outvoted.
    recover = (
        "return b64(await env.recoverFileKey(bytes(a.blob), a.shares.map(([i, v]) => [i, bytes(v)]), 2));"
    )
    for pair in combinations(released, 2):
        assert unb64(browser_page.run(recover, {"blob": b64(blob), "shares": list(pair)})) == file_key
    forged = [released[0], released[1], [released[2][0], b64(os.urandom(16))]]
    assert unb64(browser_page.run(recover, {"blob": b64(blob), "shares": forged})) == file_key


def test_a_non_extractable_browser_key_opens_a_python_sealed_bid(browser_page: Page) -> None:
    """The bidder's identity may live in the browser as a WebCrypto key that cannot be exported."""
    recipient = browser_page.run(
        "const pair = await crypto.subtle.generateKey({name: 'X25519'}, false, ['deriveBits']);"
        " window.__openingKey = pair.privateKey;"
        " return await env.identityToRecipient(pair.privateKey);"
    )
    assert recipient.startswith("age1")
    blob = sealed.seal_bytes(b"sealed to a CryptoKey", X25519Identity.generate().recipient, None, TENDER, BID)
    wrong = browser_page.error("await env.unwrapFileKey(bytes(a), window.__openingKey);", b64(blob))
    assert "no identity matched" in wrong
    blob = sealed.seal_bytes(
        b"sealed to a CryptoKey", sealed.envelope.X25519Recipient.parse(recipient), None, TENDER, BID
    )
    opened = browser_page.run(
        "return b64(await collect(await env.open(bytes(a), window.__openingKey)));", b64(blob)
    )
    assert unb64(opened) == b"sealed to a CryptoKey"
    assert "extractable" in browser_page.error("await crypto.subtle.exportKey('raw', window.__openingKey);")
    assert browser_page.errors == []
