"""Every label the archive's templates and code name exists in both catalogues, including the
values of the codes its records hold (states, kinds, verdicts) that the templates look up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bidding.models import BidState
from collusion.evidence import EvidenceKind, Level
from collusion.models import AlertStatus
from evaluation.award import DECISION_METHODS
from evaluation.models import DrawStatus, SeatKind, SeatStatus
from evaluation.ranking import ItemKind
from tenderhall.auth.roles import Role
from tenderhall.i18n import LOCALES, catalogue
from tenderhall.tenders.rubric import PRICE_METHODS

ARCHIVE = Path(__file__).resolve().parents[2] / "archive"
STATIC = re.compile(
    r"t\('(archive\.[a-z0-9_.]*[a-z0-9_])'"  # a template's label
    r'|(?:InvalidInput|NotFound)\(\s*"(archive\.[a-z_.]+)"'  # an error's message
)
CODES = {
    "archive.bid_state.": [s.value for s in BidState] + ["submitted"],
    "archive.evidence.": [k.value for k in EvidenceKind],
    "archive.alert_level.": [v.value for v in Level],
    "archive.alert_status.": [s.value for s in AlertStatus],
    "archive.decision_method.": list(DECISION_METHODS),
    "archive.draw_status.": [s.value for s in DrawStatus],
    "archive.seat_kind.": [k.value for k in SeatKind],
    "archive.seat_status.": [s.value for s in SeatStatus],
    "archive.item_kind.": [k.value for k in ItemKind],
    "archive.role.": [r.value for r in Role],
    "archive.price_method.": [*PRICE_METHODS, "none"],
    "archive.edition.": ["public", "full"],
    "archive.edition_note.": ["public", "full"],
    "archive.verdict.": ["assent", "dissent", "silent"],
    "archive.response.": ["signed", "objection", "silent"],
    "archive.via.": ["bidder", "custodians", "none"],
    "archive.cause.": ["bidder", "other"],
    "archive.filing.": ["pending", "filed", "returned"],
    "archive.notice_kind.": ["award", "result"],
    "archive.opening_outcome.": ["opened", "failed", "pending"],
    "archive.bond_kind.": ["cash", "guarantee"],
    "archive.category.": ["works", "goods", "services"],
}


def used() -> set[str]:
    keys: set[str] = set()
    for path in [*ARCHIVE.rglob("*.jinja"), *ARCHIVE.rglob("*.py")]:
        for match in STATIC.finditer(path.read_text(encoding="utf-8")):
            keys.add(match.group(1) or match.group(2))
    return keys


@pytest.mark.parametrize("locale", LOCALES)
def test_every_label_is_in_the_catalogue(locale: str) -> None:
    messages = catalogue(locale)
    wanted = used() | {prefix + code for prefix, codes in CODES.items() for code in codes}
    assert sorted(k for k in wanted if not messages.get(k)) == []


def test_every_lookup_prefix_in_the_templates_is_covered() -> None:
    prefixes = set()
    for path in ARCHIVE.rglob("*.jinja"):
        prefixes |= set(re.findall(r"'(archive\.[a-z0-9_.]+\.)' ~", path.read_text(encoding="utf-8")))
    assert prefixes - set(CODES) <= {"archive.outcome31.", "archive.event."}
