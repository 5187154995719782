"""Bid packages: ``check_package`` (what ``bid seal`` runs) refuses what the opening would refuse."""

from __future__ import annotations

import io
import json
import warnings
import zipfile

import pytest

from bidding.package import FORM_NAME, FormError, FormExtractor, check_package
from tests.bidding.helpers import bid_package


def test_a_packed_bid_passes() -> None:
    form = check_package(io.BytesIO(bid_package(price="980000")), "tender-1")
    assert form["price"] == "980000.00"


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        warnings.simplefilter("ignore")  # a duplicate name is the point of one case
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


FORM = json.dumps(
    {"price": "1.00", "duration_days": 1, "quality": "合格", "project_manager": "张工"}
).encode()


@pytest.mark.parametrize(
    ("package", "message"),
    [
        (b"", "not a zip file"),
        (bid_package()[:-30], "not a complete zip file"),  # the central directory is cut off
        (_zip([("技术标.txt", b"x"), (FORM_NAME, FORM)]), "first member of the bid package must be"),
        (_zip([(FORM_NAME, b"{}")]), "lacks price"),
        (_zip([(FORM_NAME, FORM), (FORM_NAME, FORM)]), "must be bid-form.json"),
        (_zip([(FORM_NAME, FORM)])[:60], "truncated or damaged"),
    ],
    ids=["empty", "cut-directory", "form-not-first", "incomplete-form", "two-forms", "cut-form"],
)
def test_not_a_bid_package(package: bytes, message: str) -> None:
    with pytest.raises(FormError, match=message):
        check_package(io.BytesIO(package))


def test_same_verdict_as_the_opening() -> None:
    """The opening reads a decrypted package with FormExtractor; so does check_package."""
    other = bid_package(tender="another-tender")
    sink = FormExtractor()
    sink.write(other)
    with pytest.raises(FormError, match="another tender") as at_opening:
        sink.form("tender-1")
    with pytest.raises(FormError) as at_sealing:
        check_package(io.BytesIO(other), "tender-1")
    assert str(at_sealing.value) == str(at_opening.value)
