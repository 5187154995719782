"""age's passphrase (scrypt) files, used for key backups: every C2SP CCTV scrypt vector gives its
exact result, and a round trip with pyrage both ways."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from bidding.envelope import EnvelopeError, HeaderError, NoIdentityMatched, ParameterError
from bidding.envelope.passphrase import open_with_passphrase, seal_with_passphrase
from tests.bidding.envelope.test_age_vectors import FAILURE_CLASS, VECTORS, load

pyrage = pytest.importorskip("pyrage")

SCRYPT = [p for p in VECTORS if (v := load(p)).one("passphrase") is not None and v.one("armored") != "yes"]


def test_the_scrypt_vectors_are_there() -> None:
    assert len(SCRYPT) >= 20


@pytest.mark.parametrize("path", SCRYPT, ids=[p.name for p in SCRYPT])
def test_scrypt_vector(path: Path) -> None:
    vector = load(path)
    passphrase = vector.one("passphrase")
    assert passphrase is not None
    out = io.BytesIO()
    expect = vector.one("expect")
    if expect == "success":
        open_with_passphrase(io.BytesIO(vector.body), out, passphrase)
    else:
        with pytest.raises(EnvelopeError) as info:
            open_with_passphrase(io.BytesIO(vector.body), out, passphrase)
        assert type(info.value) is FAILURE_CLASS[str(expect)], f"{type(info.value).__name__}: {info.value}"
    expected = vector.one("payload")
    if expected is not None:
        assert hashlib.sha256(out.getvalue()).hexdigest() == expected


def test_round_trips_with_pyrage() -> None:
    plain = os.urandom(100_000)
    ours = io.BytesIO()
    seal_with_passphrase(io.BytesIO(plain), ours, "correct horse", log_n=12)
    assert pyrage.passphrase.decrypt(ours.getvalue(), "correct horse") == plain
    theirs = pyrage.passphrase.encrypt(plain, "correct horse")
    out = io.BytesIO()
    assert open_with_passphrase(io.BytesIO(theirs), out, "correct horse") == len(plain)
    assert out.getvalue() == plain


def test_a_wrong_passphrase_and_bad_parameters() -> None:
    sealed = io.BytesIO()
    seal_with_passphrase(io.BytesIO(b"keys"), sealed, "right", log_n=10)
    with pytest.raises(NoIdentityMatched):
        open_with_passphrase(io.BytesIO(sealed.getvalue()), io.BytesIO(), "wrong")
    with pytest.raises(ParameterError):
        seal_with_passphrase(io.BytesIO(b"keys"), io.BytesIO(), "", log_n=10)
    with pytest.raises(ParameterError):
        seal_with_passphrase(io.BytesIO(b"keys"), io.BytesIO(), "right", log_n=23)
    forged = sealed.getvalue().replace(b" 10\n", b" 23\n", 1)
    with pytest.raises(HeaderError, match="above the limit"):
        open_with_passphrase(io.BytesIO(forged), io.BytesIO(), "right")
