"""C2SP tlog-cosignature v1 (Ed25519) and the tlog-witness request format, each checked against a
computation written out here from the specs' text (hashlib and the raw Ed25519 primitive only)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tenderhall.ledger import merkle
from tenderhall.ledger.checkpoint import Checkpoint, sign_checkpoint
from tenderhall.ledger.cosignature import (
    CosignatureSigner,
    CosignatureVerifier,
    add_cosignatures,
    open_cosigned_checkpoint,
    verify_cosignatures,
)
from tenderhall.ledger.note import InvalidKeyError, InvalidSignatureError, Signer
from tenderhall.ledger.tlog_witness import (
    Refusal,
    check_consistency,
    encode_add_checkpoint,
    open_submission,
    origin_hash,
    parse_add_checkpoint,
    parse_cosignature_lines,
    parse_size,
    trusted_logs,
)

SEED = bytes(range(32))
NAME = "witness.example/w1"
ORIGIN = "example.com/behind-the-sofa"
ROOT = base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
TEXT = f"{ORIGIN}\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def independent_line(seed: bytes, name: str, text: str, timestamp: int) -> str:
    """The cosignature line exactly as tlog-cosignature describes it."""
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key().public_bytes_raw()
    key_id = hashlib.sha256(name.encode() + b"\n" + b"\x04" + public).digest()[:4]
    message = b"cosignature/v1\n" + b"time " + str(timestamp).encode() + b"\n" + text.encode()
    blob = key_id + timestamp.to_bytes(8, "big") + private.sign(message)
    return "\u2014 " + name + " " + base64.b64encode(blob).decode() + "\n"


def test_cosignature_line_matches_the_spec_byte_for_byte() -> None:
    signer = CosignatureSigner(NAME, SEED)
    line = signer.cosign(TEXT, 1679315147).line()
    assert line == independent_line(SEED, NAME, TEXT, 1679315147)  # Ed25519 is deterministic
    # Key ID with type 0x04, and the vkey encoding with the same type byte.
    public = Ed25519PrivateKey.from_private_bytes(SEED).public_key().public_bytes_raw()
    kid = hashlib.sha256(NAME.encode() + b"\n\x04" + public).digest()[:4]
    assert signer.key_id == int.from_bytes(kid, "big")
    vkey_blob = base64.b64encode(b"\x04" + public).decode()
    assert signer.verifier().key_string() == f"{NAME}+{kid.hex()}+{vkey_blob}"
    # The cosignature is not a note signature: the same key as a 0x01 note key has another ID.
    assert Signer(NAME, SEED).key_id != signer.key_id


def test_verifier_reads_an_independently_made_cosignature() -> None:
    verifier = CosignatureSigner(NAME, SEED).verifier()
    note = TEXT + "\n" + independent_line(SEED, NAME, TEXT, 1700000000)
    [cosig] = verify_cosignatures(note, [verifier])
    assert (cosig.name, cosig.timestamp) == (NAME, 1700000000)
    # Round trip through the key strings.
    again = CosignatureVerifier.from_key_string(verifier.key_string())
    assert verify_cosignatures(note, [again])[0].timestamp == 1700000000
    signer = CosignatureSigner.from_key_string(CosignatureSigner(NAME, SEED).key_string())
    assert signer.key_id == verifier.key_id


def test_a_forged_or_retimed_cosignature_rejects_the_note() -> None:
    verifier = CosignatureSigner(NAME, SEED).verifier()
    line = independent_line(SEED, NAME, TEXT, 1700000000)
    blob = bytearray(base64.b64decode(line.split(" ")[2]))
    blob[4 + 7] ^= 1  # another timestamp: the signature covers it
    forged = f"\u2014 {NAME} {base64.b64encode(bytes(blob)).decode()}\n"
    with pytest.raises(InvalidSignatureError):
        verify_cosignatures(TEXT + "\n" + forged, [verifier])
    # Over another checkpoint body.
    other = TEXT.replace("20852163", "20852164")
    with pytest.raises(InvalidSignatureError):
        verify_cosignatures(other + "\n" + line, [verifier])
    # Unknown witnesses are ignored, not failed.
    stranger = CosignatureSigner("other.example/w", bytes(32)).verifier()
    assert verify_cosignatures(TEXT + "\n" + line, [stranger]) == []


def test_keys_of_the_wrong_type_are_refused() -> None:
    note_key = Signer(NAME, SEED).verifier().key_string()  # type 0x01
    with pytest.raises(InvalidKeyError):
        CosignatureVerifier.from_key_string(note_key)
    with pytest.raises(Exception, match="non-zero timestamp"):
        CosignatureSigner(NAME, SEED).cosign(TEXT, 0)


def test_cosigned_checkpoint_opens_with_log_and_witness_keys() -> None:
    log = Signer(ORIGIN, bytes([7]) * 32)
    note = sign_checkpoint(Checkpoint(ORIGIN, 20852163, ROOT), log)
    witness = CosignatureSigner(NAME, SEED)
    cosigned = add_cosignatures(note, [witness.cosign(TEXT, 1700000000)])
    assert cosigned == note + independent_line(SEED, NAME, TEXT, 1700000000)
    cp, cosigs = open_cosigned_checkpoint(cosigned, log.verifier(), ORIGIN, [witness.verifier()])
    assert cp.size == 20852163
    assert [c.name for c in cosigs] == [NAME]
    assert add_cosignatures(cosigned, [witness.cosign(TEXT, 1700000000)]) == cosigned  # no duplicates


def test_add_checkpoint_request_format() -> None:
    proof = [bytes([i]) * 32 for i in range(3)]
    note = TEXT + "\n\u2014 x AAAAAAAA\n"
    body = encode_add_checkpoint(20852014, proof, note)
    expected = "old 20852014\n" + "".join(base64.b64encode(p).decode() + "\n" for p in proof) + "\n" + note
    assert body == expected.encode()
    parsed = parse_add_checkpoint(body)
    assert (parsed.old_size, list(parsed.proof), parsed.note) == (20852014, proof, note)
    assert parse_add_checkpoint(b"old 0\n\n" + note.encode()).proof == ()
    for bad in (b"old 01\n\n" + note.encode(), b"old -1\n\n", b"new 3\n\n", b"old 3\n" + note.encode()):
        with pytest.raises(Refusal) as info:
            parse_add_checkpoint(bad)
        assert info.value.status == 400
    assert parse_size(b"42\n") == 42
    with pytest.raises(ValueError, match="valid text"):
        parse_size(b"042\n")
    assert origin_hash(ORIGIN) == hashlib.sha256(ORIGIN.encode()).hexdigest()


def _tree(n: int) -> merkle.Frontier:
    frontier = merkle.Frontier()
    frontier.extend(merkle.leaf_hash(str(i).encode()) for i in range(n))
    return frontier


def test_witness_checks_follow_the_spec() -> None:
    log = Signer(ORIGIN, bytes([7]) * 32)
    logs = trusted_logs([log.verifier()])
    t5, t8 = _tree(5), _tree(8)
    nodes: dict[merkle.NodeRef, bytes] = {}
    growing = merkle.Frontier()
    for i in range(8):
        nodes.update(growing.append(merkle.leaf_hash(str(i).encode())))
    proof = merkle.consistency_proof(5, 8, nodes)
    note8 = sign_checkpoint(Checkpoint(ORIGIN, 8, t8.root()), log)

    def submit(old: int, proof: list[bytes], note: str, latest: tuple[int, bytes] | None) -> int:
        request = parse_add_checkpoint(encode_add_checkpoint(old, proof, note))
        try:
            check_consistency(request, open_submission(request, logs), latest)
        except Refusal as refusal:
            return refusal.status
        return 200

    assert submit(5, proof, note8, (5, t5.root())) == 200
    assert submit(0, [], note8, None) == 200
    assert submit(3, proof, note8, (5, t5.root())) == 409  # not the witness's size
    assert submit(9, [], note8, (5, t5.root())) == 400  # old size beyond the checkpoint
    assert submit(5, proof, note8, (5, b"\x00" * 32)) == 422  # the witness saw another tree: a fork
    assert submit(0, proof, note8, None) == 422  # a proof from the empty tree must be empty
    fork8 = sign_checkpoint(Checkpoint(ORIGIN, 8, b"\x01" * 32), log)
    assert submit(8, [], fork8, (8, t8.root())) == 422  # same size, other root: a split view
    stranger = sign_checkpoint(
        Checkpoint("other.example/log", 8, t8.root()), Signer("other.example/log", bytes(32))
    )
    assert submit(0, [], stranger, None) == 404
    impostor = sign_checkpoint(Checkpoint(ORIGIN, 8, t8.root()), Signer(ORIGIN, bytes(32)))
    assert submit(0, [], impostor, None) == 403
    empty_wrong = sign_checkpoint(Checkpoint(ORIGIN, 0, b"\x02" * 32), log)
    assert submit(0, [], empty_wrong, None) == 422
    with pytest.raises(Refusal) as info:
        check_consistency(
            parse_add_checkpoint(encode_add_checkpoint(3, [], note8)),
            Checkpoint(ORIGIN, 8, t8.root()),
            (5, t5.root()),
        )
    assert info.value.size == 5


def test_client_reads_the_witness_answer() -> None:
    witness = CosignatureSigner(NAME, SEED)
    other = CosignatureSigner("other.example/w", bytes(32))
    answer = (other.cosign(TEXT, 5).line() + witness.cosign(TEXT, 6).line()).encode()
    [line] = parse_cosignature_lines(answer, TEXT, witness.verifier())
    assert int.from_bytes(line.signature[:8], "big") == 6
    with pytest.raises(Exception, match="no cosignature"):
        parse_cosignature_lines(other.cosign(TEXT, 5).line().encode(), TEXT, witness.verifier())
    with pytest.raises(InvalidSignatureError):
        parse_cosignature_lines(
            witness.cosign(TEXT.replace("2", "3"), 6).line().encode(), TEXT, witness.verifier()
        )
