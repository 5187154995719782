"""The bidder's keys in the browser (frontend/src/keystore.js): kept in IndexedDB as
non-extractable WebCrypto keys that open what is sealed to them; the passphrase-protected backup
is the command-line client's format both ways (and any age tool's), and restores on another
browser profile, which then opens a bid sealed to the first."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pyrage
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import sealed, signing
from bidding.client.backup import read_backup, write_backup
from bidding.client.cli import bid
from bidding.client.keys import BidderKeys
from bidding.envelope import X25519Identity, X25519Recipient, open_with_identity
from bidding.signing import public_key_b64
from tests.frontend.conftest import Page, b64, unb64

KEYSTORE = "const ks = await import('/static/bundle/keystore.js');"
LOG_N = 12  # a light work factor: the format is what is tested, not scrypt's cost
MAKE_BACKUP = (
    KEYSTORE
    + """
const secrets = await ks.generateSecrets();
window.__keys = await ks.toCryptoKeys(secrets);
await ks.store("bidder-1", window.__keys);
const file = await ks.backup(secrets, a.passphrase, a.logN);
return { backup: b64(file), public: window.__keys.public };
"""
)
RESTORE = (
    KEYSTORE
    + """
const secrets = await ks.restore(bytes(a.backup), a.passphrase);
const keys = await ks.toCryptoKeys(secrets);
await ks.store("bidder-1", keys);
return keys.public;
"""
)
OPEN_STORED = (
    KEYSTORE
    + """
const keys = await ks.load("bidder-1");
if (keys === null) throw new Error("no keys stored");
return b64(await collect(await env.open(bytes(a), keys.opening)));
"""
)


def test_browser_backup_restores_in_the_cli_and_opens_a_bid(browser_page: Page, tmp_path: Path) -> None:
    made = browser_page.run(MAKE_BACKUP, {"passphrase": "长城 correct horse", "logN": LOG_N})
    path = tmp_path / "backup.age"
    path.write_bytes(unb64(made["backup"]))
    keys = read_backup(path, "长城 correct horse")
    assert str(keys.opening.recipient) == made["public"]["opening"]
    assert public_key_b64(keys.signing) == made["public"]["signing"]
    # Any age tool opens the backup with the passphrase.
    assert b"tenderhall.org/bidder-keys/v1" in pyrage.passphrase.decrypt(
        path.read_bytes(), "长城 correct horse"
    )

    # The command-line client restores it into its key files ...
    home = tmp_path / "home"
    runner = CliRunner()
    restored = runner.invoke(
        bid,
        ["--home", str(home), "keys-restore", str(path)],
        env={"TENDERHALL_KEY_PASSPHRASE": "长城 correct horse"},
    )
    assert restored.exit_code == 0, restored.output
    assert made["public"]["opening"] in restored.output
    wrong = runner.invoke(
        bid,
        ["--home", str(home), "keys-restore", "--force", str(path)],
        env={"TENDERHALL_KEY_PASSPHRASE": "x"},
    )
    assert wrong.exit_code == 1
    assert "does not open with this passphrase" in wrong.output

    # ... and the browser's stored, non-extractable key opens what is sealed to it.
    blob = sealed.seal_bytes(b"bid package", keys.opening.recipient, None, "t", "b")
    assert unb64(browser_page.run(OPEN_STORED, b64(blob))) == b"bid package"
    browser_page.page.reload()
    assert unb64(browser_page.run(OPEN_STORED, b64(blob))) == b"bid package"
    assert browser_page.run(KEYSTORE + "return await ks.selfTest(await ks.load('bidder-1'));") is True
    stored = KEYSTORE + "const k = await ks.load('bidder-1');"
    for which in ("opening", "signing"):
        message = browser_page.error(stored + f"await crypto.subtle.exportKey('pkcs8', k.{which});")
        assert "extractable" in message


def test_a_cli_backup_restores_on_another_browser_profile(browser_page: Page, tmp_path: Path) -> None:
    keys = BidderKeys(X25519Identity.generate(), Ed25519PrivateKey.generate())
    path = tmp_path / "backup.age"
    write_backup(keys, path, "密码 for the clerk", log_n=LOG_N)
    blob = sealed.seal_bytes(b"sealed to the clerk", keys.opening.recipient, None, "t", "b")

    other = browser_page.page.context.browser.new_context()  # a fresh profile: empty IndexedDB
    try:
        page = Page(other.new_page())
        page.page.goto(browser_page.page.url)
        assert page.error(OPEN_STORED, b64(blob)) == "no keys stored"
        restored = page.run(RESTORE, {"backup": b64(path.read_bytes()), "passphrase": "密码 for the clerk"})
        assert restored == {"opening": keys.recipient, "signing": keys.signing_public}
        assert unb64(page.run(OPEN_STORED, b64(blob))) == b"sealed to the clerk"
        wrong = page.error(RESTORE, {"backup": b64(path.read_bytes()), "passphrase": "wrong"})
        assert "does not open with this passphrase" in wrong
        assert "at most 4096" in page.error(RESTORE, {"backup": b64(bytes(5000)), "passphrase": "x"})
        not_keys = pyrage.passphrase.encrypt(b'{"format": "something else"}', "x")
        assert "not a tenderhall.org/bidder-keys/v1" in page.error(
            RESTORE, {"backup": b64(not_keys), "passphrase": "x"}
        )
    finally:
        other.close()


def test_a_browser_sealed_bid_opens_with_restored_cli_keys(browser_page: Page, tmp_path: Path) -> None:
    made = browser_page.run(MAKE_BACKUP, {"passphrase": "pp", "logN": LOG_N})
    path = tmp_path / "backup.age"
    path.write_bytes(unb64(made["backup"]))
    keys = read_backup(path, "pp")
    blob = unb64(
        browser_page.run(
            "const s = await env.seal(bytes(a.plain), {tender: 't', remedy: null}, 'b', a.to);"
            " return b64(await collect(s));",
            {"plain": b64(b"from the browser"), "to": made["public"]["opening"]},
        )
    )
    out = io.BytesIO()
    open_with_identity(io.BytesIO(blob), out, [keys.opening])
    assert out.getvalue() == b"from the browser"
    assert X25519Recipient.parse(made["public"]["opening"]) == keys.opening.recipient
    assert base64.b64decode(made["public"]["signing"]) == keys.signing.public_key().public_bytes_raw()


def test_the_browser_signs_what_the_server_verifies(browser_page: Page) -> None:
    """Registration proof and a nested statement (a manifest: numbers, Chinese text, a nested
    object) signed with the non-extractable key verify with bidding.signing (RFC 8785 JSON)."""
    company = "0b6f7c9e-5d1a-4f7e-9a51-3c2f0d8e4b21"
    manifest = signing.manifest(
        tender="SH-2026-0009",
        bidder="91310000MA1FL0000X",
        bid="bid-1",
        envelope_sha256="ab" * 32,
        size=209_715_200,
        client={"tool": "浏览器", "device": "工位 3"},
    )
    made = browser_page.run(
        KEYSTORE
        + """
const keys = await ks.toCryptoKeys(await ks.generateSecrets());
return { body: await ks.registration(keys, a.company), public: keys.public,
         manifest: await ks.sign(keys, a.manifest) };
""",
        {
            "company": company,
            "manifest": manifest,
        },
    )
    body = made["body"]
    assert body["opening"] == made["public"]["opening"]
    assert body["signing"] == made["public"]["signing"]
    statement = signing.registration_statement(company, body["opening"], body["signing"])
    signing.verify(body["signing"], statement, body["proof"])
    with pytest.raises(signing.SignatureError):
        signing.verify(body["signing"], {**statement, "company": "another"}, body["proof"])
    signing.verify(body["signing"], manifest, made["manifest"])
