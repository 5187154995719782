"""C2SP tlog-checkpoint bodies and their signed notes."""

from __future__ import annotations

import base64
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenderhall.ledger.checkpoint import Checkpoint, CheckpointError, open_checkpoint, sign_checkpoint
from tenderhall.ledger.merkle import (
    EMPTY_ROOT,
    MAX_TREE_SIZE,
    Frontier,
    NodeRef,
    consistency_proof,
    leaf_hash,
    verify_consistency,
)
from tenderhall.ledger.note import (
    InvalidSignatureError,
    MalformedNoteError,
    NoteError,
    Signer,
    UnverifiedNoteError,
    sign,
)

ORIGIN = "tenderhall.example/ledger"
ROOT = bytes(range(32))
ROOT_B64 = base64.b64encode(ROOT).decode()
# The example of https://c2sp.org/tlog-checkpoint.
SPEC_TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def test_spec_example_roundtrip() -> None:
    cp = Checkpoint.parse(SPEC_TEXT)
    assert cp.origin == "example.com/behind-the-sofa"
    assert cp.size == 20852163
    assert cp.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert cp.extensions == ()
    assert cp.to_text() == SPEC_TEXT


def test_extensions_and_empty_tree() -> None:
    cp = Checkpoint(ORIGIN, 0, EMPTY_ROOT, ("ext one", "— two"))
    text = cp.to_text()
    assert text == f"{ORIGIN}\n0\n{base64.b64encode(EMPTY_ROOT).decode()}\next one\n— two\n"
    assert Checkpoint.parse(text) == cp
    assert Checkpoint(ORIGIN, 1, ROOT, ["x"]).extensions == ("x",)  # type: ignore[arg-type]


@given(
    st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=30),
    st.integers(0, MAX_TREE_SIZE),
    st.binary(min_size=32, max_size=32),
    st.lists(st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=10), max_size=3),
)
def test_roundtrip(origin: str, size: int, root: bytes, ext: list[str]) -> None:
    cp = Checkpoint(origin, size, root, tuple(ext))
    assert Checkpoint.parse(cp.to_text()) == cp


@pytest.mark.parametrize(
    "text",
    [
        f"{ORIGIN}\n01\n{ROOT_B64}\n",  # leading zero
        f"{ORIGIN}\n00\n{ROOT_B64}\n",
        f"{ORIGIN}\n+1\n{ROOT_B64}\n",
        f"{ORIGIN}\n-1\n{ROOT_B64}\n",
        f"{ORIGIN}\n 1\n{ROOT_B64}\n",
        f"{ORIGIN}\n1 \n{ROOT_B64}\n",
        f"{ORIGIN}\n1_000\n{ROOT_B64}\n",
        f"{ORIGIN}\n\u0661\n{ROOT_B64}\n",  # Arabic-Indic digit one
        f"{ORIGIN}\n\n{ROOT_B64}\n",
        f"{ORIGIN}\n{1 << 64}\n{ROOT_B64}\n",  # beyond uint64
        f"{ORIGIN}\n{'9' * 25}\n{ROOT_B64}\n",
        f"{ORIGIN}\n5\n{base64.b64encode(ROOT[:31]).decode()}\n",  # 31-byte root
        f"{ORIGIN}\n5\n{base64.b64encode(ROOT + b'x').decode()}\n",
        f"{ORIGIN}\n5\n{ROOT_B64.rstrip('=')}\n",  # unpadded
        f"{ORIGIN}\n5\n{ROOT_B64[:-2]}{chr(ord(ROOT_B64[-2]) + 1)}=\n",  # non-canonical trailing bits
        f"{ORIGIN}\n5\n{ROOT.hex()}\n",
        f"{ORIGIN}\n5\n{ROOT_B64}",  # no final newline
        f"{ORIGIN}\n5\n{ROOT_B64}\n\n",  # empty extension line
        f"{ORIGIN}\n5\n{ROOT_B64}\n\next\n",
        f"{ORIGIN}\n5\n",
        f"\n5\n{ROOT_B64}\n",  # empty origin
        f"{ORIGIN}\n5\n{ROOT_B64}\nbad\tline\n",
        "",
    ],
)
def test_parse_is_strict(text: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.parse(text)


def test_constructor_validates() -> None:
    for args in (
        ("", 1, ROOT, ()),
        ("a\nb", 1, ROOT, ()),
        (ORIGIN, -1, ROOT, ()),
        (ORIGIN, 1 << 64, ROOT, ()),
        (ORIGIN, True, ROOT, ()),
        (ORIGIN, 1, ROOT[:31], ()),
        (ORIGIN, 1, ROOT_B64, ()),
        (ORIGIN, 1, ROOT, ("",)),
        (ORIGIN, 1, ROOT, ("two\nlines",)),
    ):
        with pytest.raises(CheckpointError):
            Checkpoint(*args)


def test_sign_and_open() -> None:
    log = Signer.generate(ORIGIN)
    cp = Checkpoint(ORIGIN, 7, ROOT)
    note = sign_checkpoint(cp, log)
    assert note.startswith(cp.to_text() + "\n\u2014 " + ORIGIN + " ")
    assert open_checkpoint(note, log.verifier(), ORIGIN) == cp
    # A witness cosignature is ignored by a verifier that only knows the log key.
    witness = Signer.generate("witness.example")
    cosigned = sign(cp.to_text(), [log, witness])
    assert open_checkpoint(cosigned, log.verifier(), ORIGIN) == cp


def test_open_rejections() -> None:
    log = Signer.generate(ORIGIN)
    note = sign_checkpoint(Checkpoint(ORIGIN, 7, ROOT), log)
    with pytest.raises(CheckpointError, match="origin"):
        open_checkpoint(note, log.verifier(), "other.example/ledger")
    with pytest.raises(UnverifiedNoteError):
        open_checkpoint(note, Signer.generate(ORIGIN).verifier(), ORIGIN)
    with pytest.raises(InvalidSignatureError):
        open_checkpoint(note.replace("\n7\n", "\n8\n", 1), log.verifier(), ORIGIN)
    with pytest.raises(MalformedNoteError):
        open_checkpoint(note.replace("\n\n", "\n"), log.verifier(), ORIGIN)
    not_a_checkpoint = sign("hello\n", [log])
    with pytest.raises(CheckpointError):
        open_checkpoint(not_a_checkpoint, log.verifier(), ORIGIN)
    # Every failure is a NoteError, so callers can catch one type.
    assert issubclass(CheckpointError, NoteError)


def test_checkpoints_of_a_growing_log_are_consistent() -> None:
    log = Signer.generate(ORIGIN)
    frontier = Frontier()
    nodes: dict[NodeRef, bytes] = {}
    notes = []
    for i in range(1, 101):
        nodes.update(frontier.append(leaf_hash(f"event {i}".encode())))
        if i in (1, 13, 64, 100):
            notes.append(sign_checkpoint(Checkpoint(ORIGIN, frontier.size, frontier.root()), log))
    cps = [open_checkpoint(n, log.verifier(), ORIGIN) for n in notes]
    for old, new in itertools.pairwise(cps):
        proof = consistency_proof(old.size, new.size, nodes)
        assert verify_consistency(old.size, new.size, proof, old.root, new.root)
