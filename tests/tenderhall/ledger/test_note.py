"""C2SP signed notes, checked against the published golang.org/x/mod/sumdb/note examples."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from tenderhall.ledger.note import (
    MAX_SIGNATURES,
    InvalidKeyError,
    InvalidSignatureError,
    MalformedNoteError,
    NoteError,
    NoteSignature,
    Signer,
    UnverifiedNoteError,
    Verifier,
    b64decode_canonical,
    is_valid_name,
    key_id,
    open_note,
    parse_note,
    sign,
)

# From the package documentation of golang.org/x/mod/sumdb/note (note.go, "# Example").
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
PETER_NOTE = PETER_TEXT + "\n" + PETER_SIG
# The doubly-signed example of the same documentation, and EnochRoot's verifier key from
# that package's note_test.go.
ENOCH_SIG = (
    "— EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"


def test_go_example_keys() -> None:
    signer = Signer.from_key_string(PETER_SKEY)
    verifier = Verifier.from_key_string(PETER_VKEY)
    assert signer.name == verifier.name == "PeterNeumann"
    assert signer.key_id == verifier.key_id == 0xC74F20A3
    assert signer.key_string() == PETER_SKEY
    assert verifier.key_string() == PETER_VKEY
    assert signer.verifier().key_string() == PETER_VKEY


def test_go_example_sign_is_byte_exact() -> None:
    # Ed25519 is deterministic, so our signer must reproduce Go's note exactly.
    assert sign(PETER_TEXT, [Signer.from_key_string(PETER_SKEY)]) == PETER_NOTE


def test_go_example_open() -> None:
    peter = Verifier.from_key_string(PETER_VKEY)
    assert open_note(PETER_NOTE, [peter]) == (PETER_TEXT, ["PeterNeumann"])
    assert open_note(PETER_NOTE.encode(), [peter]) == (PETER_TEXT, ["PeterNeumann"])
    double = PETER_NOTE + ENOCH_SIG
    enoch = Verifier.from_key_string(ENOCH_VKEY)
    assert open_note(double, [peter]) == (PETER_TEXT, ["PeterNeumann"])  # Enoch unknown: ignored
    assert open_note(double, [enoch]) == (PETER_TEXT, ["EnochRoot"])
    assert open_note(double, [enoch, peter]) == (PETER_TEXT, ["PeterNeumann", "EnochRoot"])


def test_second_path_verification_by_hand() -> None:
    """Check our notes with raw Ed25519 and a hand-computed key ID, not through note.py."""
    signer = Signer.generate("tenderhall.example/ledger")
    text = "tenderhall.example/ledger\n42\n" + base64.b64encode(bytes(32)).decode() + "\n"
    signed = sign(text, [signer])
    body, sep, sig_line = signed.rpartition("\n\n")
    assert sep
    assert body + "\n" == text
    prefix = "\u2014 tenderhall.example/ledger "
    assert sig_line.startswith(prefix)
    assert sig_line.endswith("\n")
    blob = base64.b64decode(sig_line[len(prefix) : -1], validate=True)
    pub = signer.public_key
    expected_id = hashlib.sha256(b"tenderhall.example/ledger\n\x01" + pub).digest()[:4]
    assert blob[:4] == expected_id
    Ed25519PublicKey.from_public_bytes(pub).verify(blob[4:], text.encode())  # raises if bad
    encoded_key = base64.b64encode(b"\x01" + pub).decode()
    vkey = f"tenderhall.example/ledger+{expected_id.hex()}+{encoded_key}"
    assert signer.verifier().key_string() == vkey


def test_generate_roundtrip_and_secrecy() -> None:
    signer = Signer.generate("witness.example")
    again = Signer.from_key_string(signer.key_string())
    assert again.public_key == signer.public_key
    assert again.key_id == signer.key_id
    seed_b64 = signer.key_string().rsplit("+", 1)[1]
    assert seed_b64 not in repr(signer)
    assert "PRIVATE" not in repr(signer)
    assert key_id("witness.example", b"\x01" + signer.public_key) == signer.key_id


@given(
    st.lists(
        st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=40),
        min_size=1,
        max_size=6,
    )
)
def test_sign_open_roundtrip(lines: list[str]) -> None:
    signer = Signer.from_key_string(PETER_SKEY)
    text = "\n".join(lines) + "\n"  # may contain blank lines: the last one splits
    assert open_note(sign(text, [signer]), [signer.verifier()]) == (text, ["PeterNeumann"])


def test_text_with_blank_lines_and_trailing_blank_line() -> None:
    signer = Signer.generate("a.example")
    for text in ("\n", "a\n\nb\n", "a\n\n", "x\n\n\n"):
        assert open_note(sign(text, [signer]), [signer.verifier()])[0] == text


def test_unknown_keys_only() -> None:
    stranger = Signer.generate("PeterNeumann")  # same name, other key: still unknown
    with pytest.raises(UnverifiedNoteError) as info:
        open_note(PETER_NOTE, [stranger.verifier()])
    assert info.value.text == PETER_TEXT
    assert [(s.name, s.key_id) for s in info.value.signatures] == [("PeterNeumann", 0xC74F20A3)]
    with pytest.raises(UnverifiedNoteError):
        open_note(PETER_NOTE, [])


def test_same_key_id_other_name_is_unknown() -> None:
    note = PETER_NOTE.replace("— PeterNeumann ", "— PaulNeumann ")
    with pytest.raises(UnverifiedNoteError):
        open_note(note, [Verifier.from_key_string(PETER_VKEY)])


def test_bad_signature_rejects_the_note() -> None:
    peter = Verifier.from_key_string(PETER_VKEY)
    sig = base64.b64decode(PETER_SIG.split(" ")[-1])
    for pos in (4, 40, len(sig) - 1):  # signature bytes, not the key ID
        bad = sig[:pos] + bytes([sig[pos] ^ 1]) + sig[pos + 1 :]
        note = PETER_TEXT + "\n— PeterNeumann " + base64.b64encode(bad).decode() + "\n"
        with pytest.raises(InvalidSignatureError):
            open_note(note, [peter])
    with pytest.raises(InvalidSignatureError):
        open_note(PETER_NOTE.replace("answer", "Answer"), [peter])
    # A bad line by a known key is fatal even next to a good one.
    other = Signer.generate("other.example")
    forged = sign("something else\n", [Signer.from_key_string(PETER_SKEY)]).split("\n\n")[1]
    with pytest.raises(InvalidSignatureError):
        open_note(sign(PETER_TEXT, [other]) + forged, [peter, other.verifier()])
    with pytest.raises(InvalidSignatureError):
        open_note(PETER_NOTE + forged, [peter])
    # Too short to be an Ed25519 signature.
    short = PETER_TEXT + "\n— PeterNeumann " + base64.b64encode(sig[:20]).decode() + "\n"
    with pytest.raises(InvalidSignatureError):
        open_note(short, [peter])


@pytest.mark.parametrize(
    "note",
    [
        PETER_NOTE[:-1],  # no final newline
        PETER_TEXT + PETER_SIG,  # no blank line
        PETER_TEXT + "\n",  # no signatures
        PETER_TEXT + "\n\n",
        PETER_NOTE.replace("— ", "-- "),
        PETER_NOTE.replace("— ", "—"),
        PETER_NOTE.replace("— ", "— ", 1).replace("\u2014", "\u2013"),  # en dash
        PETER_NOTE.replace("PeterNeumann ", "Peter Neumann "),
        PETER_NOTE.replace("PeterNeumann ", "Peter+Neumann "),
        PETER_NOTE.replace("PeterNeumann ", "Peter\u00a0Neumann "),
        PETER_NOTE.replace("— PeterNeumann ", "—  "),
        PETER_NOTE.replace("nAM=", "nAN="),  # non-canonical base64 (padding bits set)
        PETER_NOTE.replace("nAM=", "nAM"),  # missing padding
        PETER_NOTE.replace("x08go", "x08g!"),
        PETER_TEXT + "\n— PeterNeumann x08g\n",  # decodes to fewer than 5 bytes
        PETER_TEXT + "\n— PeterNeumann \n",
        PETER_NOTE.replace("If you", "If\tyou"),
        PETER_NOTE.replace("If you", "If\ryou"),
        PETER_NOTE.replace("If you", "If\x00you"),
        PETER_NOTE + "trailing garbage\n",
        PETER_NOTE + "\n",
    ],
)
def test_malformed_notes(note: str) -> None:
    with pytest.raises(MalformedNoteError):
        open_note(note, [Verifier.from_key_string(PETER_VKEY)])


def test_invalid_utf8_and_surrogates() -> None:
    with pytest.raises(MalformedNoteError):
        open_note(PETER_NOTE.encode().replace(b"you", b"y\xffu", 1), [])
    with pytest.raises(MalformedNoteError):
        open_note(PETER_NOTE.replace("you", "y\udc80u", 1), [])


def test_limits() -> None:
    signers = [Signer.generate(f"w{i}.example") for i in range(3)]
    text = "limits\n"
    lines = sign(text, signers).split("\n\n")[1]
    many = text + "\n" + lines * (MAX_SIGNATURES // 3 + 1)
    with pytest.raises(MalformedNoteError, match="signatures"):
        open_note(many, [signers[0].verifier()])
    assert open_note(many, [signers[0].verifier()], max_signatures=200)[1] == ["w0.example"]
    big = "x" * 2000 + "\n"
    with pytest.raises(MalformedNoteError, match="exceeds"):
        open_note(sign(big, signers[:1]), [signers[0].verifier()], max_size=1000)
    with pytest.raises(MalformedNoteError, match="exceeds"):
        sign(big, signers[:1], max_size=1000)
    with pytest.raises(MalformedNoteError):
        sign("x" * 10, signers[: MAX_SIGNATURES + 1])  # no final newline is checked first
    with pytest.raises(MalformedNoteError, match="signatures"):
        sign(text, [Signer.generate(f"s{i}") for i in range(MAX_SIGNATURES + 1)])


def test_sign_rejects_bad_input() -> None:
    signer = Signer.generate("a.example")
    for text in ("no newline", "tab\there\n", "cr\r\n", "lone \udc80 surrogate\n"):
        with pytest.raises(MalformedNoteError):
            sign(text, [signer])
    with pytest.raises(NoteError, match="at least one"):
        sign("x\n", [])
    with pytest.raises(NoteError, match="duplicate"):
        sign("x\n", [signer, Signer.from_key_string(signer.key_string())])


def test_ambiguous_verifiers() -> None:
    v = Verifier.from_key_string(PETER_VKEY)
    with pytest.raises(NoteError, match="ambiguous"):
        open_note(PETER_NOTE, [v, Verifier.from_key_string(PETER_VKEY)])


def test_key_names() -> None:
    for good in ("a", "tenderhall.example/ledger", "PeterNeumann", "例え.jp/log", "x—y"):
        assert is_valid_name(good)
    for bad in ("", "a b", "a+b", "a\tb", "a\nb", "a\u2003b", "a\u00a0b", "a\x01b", "a\udc80"):
        assert not is_valid_name(bad)
        with pytest.raises(InvalidKeyError):
            Signer.generate(bad)


def test_verifier_key_strings() -> None:
    assert Verifier.from_key_string(PETER_VKEY.replace("c74f20a3", "C74F20A3")).key_id == 0xC74F20A3
    bad_keys = [
        PETER_VKEY.replace("c74f20a3", "c74f20a4"),  # wrong key ID
        PETER_VKEY.replace("c74f20a3", "0xc74f20a"),
        PETER_VKEY.replace("c74f20a3", "c74f_20a3"),
        PETER_VKEY.replace("+ARpc", "+Ahpc"),  # algorithm 0x02
        PETER_VKEY.replace("PeterNeumann", "PeterNeumann2"),  # key ID no longer matches
        PETER_VKEY + "=",
        PETER_VKEY[:-4],
        "PeterNeumann+c74f20a3",
        "",
        PETER_SKEY,
    ]
    for bad in bad_keys:
        with pytest.raises(InvalidKeyError):
            Verifier.from_key_string(bad)


def test_no_mangled_verifier_key_is_accepted() -> None:
    # Deleting any non-empty substring must never yield a valid key.
    for i in range(len(PETER_VKEY)):
        for j in range(i + 1, len(PETER_VKEY) + 1):
            with pytest.raises(InvalidKeyError):
                Verifier.from_key_string(PETER_VKEY[:i] + PETER_VKEY[j:])


def test_signer_key_strings() -> None:
    bad_keys = [
        PETER_SKEY.replace("PRIVATE+KEY+", ""),
        PETER_SKEY.replace("PRIVATE+KEY+", "PRIVATE+KEYS+"),
        PETER_SKEY.replace("c74f20a3", "c74f20a4"),  # key ID must match the derived public key
        PETER_SKEY.replace("+AYEK", "+AoEK"),
        PETER_SKEY[:-4],
        PETER_VKEY,
    ]
    for bad in bad_keys:
        with pytest.raises(InvalidKeyError):
            Signer.from_key_string(bad)


def test_parse_note_and_signature_lines() -> None:
    text, sigs = parse_note(PETER_NOTE + ENOCH_SIG)
    assert text == PETER_TEXT
    assert [(s.name, f"{s.key_id:08x}") for s in sigs] == [
        ("PeterNeumann", "c74f20a3"),
        ("EnochRoot", "af0cfe78"),
    ]
    assert "".join(s.line() for s in sigs) == PETER_SIG + ENOCH_SIG
    assert NoteSignature("n", 1, b"\x00" * 64).line().startswith("\u2014 n AAAAAQ")


def test_canonical_base64() -> None:
    assert b64decode_canonical("") == b""
    assert b64decode_canonical("AA==") == b"\x00"
    for bad in ("AB==", "AA=", "AA", "A===", "AA==\n", " AA==", "AA-_", "AA=="[:-1] + "A"):
        assert b64decode_canonical(bad) is None, bad
