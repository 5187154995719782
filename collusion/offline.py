"""Offline scoring contract: bids from a CSV export or OCDS compiled releases -> one risk per tender.

INPUT (CSV, UTF-8 with or without BOM): one row per bid, required columns ``tender_id,bidder_id,price``
(``bidder_id`` may be empty where the source anonymises firms), optional
``date,winner,estimate,ip,device,bond_account,legal_rep,contact``; other columns are ignored.  A row
that cannot be used is reported with its line number and skipped, never guessed at.

INPUT (OCDS): JSON Lines, one compiled release per line (release packages and record packages with
``compiledRelease`` are unwrapped); bids come from the bid extension's ``bids.details``.

OUTPUT: one row per tender ``tender_id,risk,level,reasons``; ``reasons`` is a ``;``-separated list of
stable reason keys (``evidence.shared_bond_account``, ``screen.cv`` …), strongest first.

No web or database imports: the CLI and the import service wrap this module.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from collusion.detector import Detector, DetectorParams, TenderRisk
from collusion.records import BidRecord, CompanyRecord, TenderRecord

REQUIRED = ("tender_id", "bidder_id", "price")
OPTIONAL = ("date", "winner", "estimate", "ip", "device", "bond_account", "legal_rep", "contact")
OUTPUT_COLUMNS = ("tender_id", "risk", "level", "reasons")
NO_DATE = dt.date(1970, 1, 1)  # dates are never model features; a missing one only loses ordering
ANON = "~anon"  # prefix of the per-tender ids given to anonymised bidders (never links across tenders)
_TRUE = {"1", "true", "yes", "y", "t", "x", "是", "中标", "winner"}
_FALSE = {"", "0", "false", "no", "n", "f", "否"}
_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
MAX_FIELD = 1000

Progress = Callable[[int], None]


class InputError(ValueError):
    """The input as a whole is unusable (not CSV, required columns missing …)."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    code: str  # stable: "price.invalid", "tender_id.missing", "json.invalid", "ocds.schema" …
    detail: str = ""

    def __str__(self) -> str:
        return f"line {self.line}: {self.code}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Loaded:
    bids: list[BidRecord] = field(default_factory=list)
    companies: dict[str, CompanyRecord] = field(default_factory=dict)
    tenders: dict[str, TenderRecord] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    rows: int = 0
    fmt: str = "csv"

    @property
    def tender_ids(self) -> list[str]:
        return list(dict.fromkeys(b.tender_id for b in self.bids))


def parse_amount(text: str) -> float:
    """A positive, finite amount: plain decimal, or with thousands separators ("1,234,500.00")."""
    t = text.strip().replace("¥", "").replace("￥", "").strip()
    if _GROUPED.match(t):
        t = t.replace(",", "")
    try:
        value = Decimal(t)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not value.is_finite() or value <= 0:
        raise ValueError("not a positive amount")
    f = float(value)
    if not math.isfinite(f):
        raise ValueError("out of range")
    return f


def parse_date(text: str) -> dt.date:
    t = text.strip()
    try:
        return dt.date.fromisoformat(t[:10]) if len(t) >= 10 else dt.date.fromisoformat(t)
    except ValueError:
        raise ValueError("not an ISO date (YYYY-MM-DD)") from None


def parse_winner(text: str) -> bool:
    t = text.strip().lower()
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    raise ValueError("not a yes/no value")


class _Builder:
    """Accumulates bids, skipping duplicates and naming anonymous bidders per tender."""

    def __init__(self, fmt: str) -> None:
        self.out = Loaded(fmt=fmt)
        self._seen: set[tuple[str, str]] = set()
        self._anon: dict[str, int] = {}

    def anon(self, tender_id: str) -> str:
        n = self._anon.get(tender_id, 0) + 1
        self._anon[tender_id] = n
        return f"{ANON}:{tender_id}:{n}"

    def problem(self, line: int, code: str, detail: str = "") -> None:
        self.out.problems.append(RowProblem(line, code, detail))

    def add(self, line: int, bid: BidRecord, legal_rep: str = "", name: str = "") -> bool:
        key = (bid.tender_id, bid.bidder_id)
        if key in self._seen:
            self.problem(line, "bid.duplicate", f"{bid.tender_id} / {bid.bidder_id}")
            return False
        self._seen.add(key)
        self.out.bids.append(bid)
        if bid.tender_id not in self.out.tenders:
            self.out.tenders[bid.tender_id] = TenderRecord(bid.tender_id, bid.date, estimate=bid.estimate)
        if not bid.bidder_id.startswith(ANON):
            old = self.out.companies.get(bid.bidder_id) or CompanyRecord(bid.bidder_id)
            if legal_rep or (name and not old.name):
                old = replace(old, legal_rep=legal_rep or old.legal_rep, name=old.name or name)
            self.out.companies[bid.bidder_id] = old
        return True


def _cell(row: Mapping[str, str | None], name: str) -> str:
    v = row.get(name)
    return (v or "").strip() if isinstance(v, str) else ""


def read_csv(stream: IO[str], progress: Progress | None = None) -> Loaded:
    """Parse the CSV contract; `progress` receives the number of rows read since the last call."""
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("the input is empty") from None
    except csv.Error as exc:
        raise InputError(f"not CSV: {exc}") from None
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InputError(f"required column(s) missing: {', '.join(missing)}")
    b = _Builder("csv")
    index = {n: i for i, n in reversed(list(enumerate(names)))}  # first occurrence wins
    wanted = [c for c in (*REQUIRED, *OPTIONAL) if c in index]
    pending = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            b.problem(reader.line_num, "csv.invalid", str(exc))
            continue
        line = reader.line_num
        pending += 1
        if progress is not None and pending >= 1000:
            progress(pending)
            pending = 0
        if not cells or all(not c.strip() for c in cells):
            continue  # blank line: not a row
        b.out.rows += 1
        row = {c: (cells[index[c]] if index[c] < len(cells) else None) for c in wanted}
        _csv_row(b, line, row)
    if progress is not None and pending:
        progress(pending)
    return b.out


def _csv_row(b: _Builder, line: int, row: Mapping[str, str | None]) -> None:
    if row.get("price") is None:
        b.problem(line, "row.short", "fewer fields than the header")
        return
    tender_id = _cell(row, "tender_id")
    if not tender_id:
        b.problem(line, "tender_id.missing")
        return
    long = [c for c in row if len(_cell(row, c)) > MAX_FIELD]
    if long:
        b.problem(line, "field.too_long", long[0])
        return
    try:
        price = parse_amount(_cell(row, "price"))
    except ValueError as exc:
        b.problem(line, "price.invalid", f"{_cell(row, 'price')!r}: {exc}")
        return
    date = NO_DATE
    if _cell(row, "date"):
        try:
            date = parse_date(_cell(row, "date"))
        except ValueError as exc:
            b.problem(line, "date.invalid", f"{_cell(row, 'date')!r}: {exc}")
            return
    try:
        winner = parse_winner(_cell(row, "winner"))
    except ValueError as exc:
        b.problem(line, "winner.invalid", f"{_cell(row, 'winner')!r}: {exc}")
        return
    estimate = None
    if _cell(row, "estimate"):
        try:
            estimate = parse_amount(_cell(row, "estimate"))
        except ValueError as exc:
            b.problem(line, "estimate.invalid", f"{_cell(row, 'estimate')!r}: {exc}")
            return
    bidder = _cell(row, "bidder_id") or b.anon(tender_id)
    contact = _cell(row, "contact")
    bid = BidRecord(
        tender_id,
        bidder,
        price,
        date,
        winner,
        estimate,
        ip=_cell(row, "ip"),
        device=_cell(row, "device"),
        bond_account=_cell(row, "bond_account"),
        contacts=(contact,) if contact else (),
    )
    b.add(line, bid, legal_rep=_cell(row, "legal_rep"))


# ---- OCDS ----------------------------------------------------------------------------------------
Validator = Callable[[Any], list[str]]


def _releases(doc: Any) -> Iterator[Any]:
    if isinstance(doc, dict) and isinstance(doc.get("releases"), list):
        yield from doc["releases"]
    elif isinstance(doc, dict) and isinstance(doc.get("records"), list):
        for rec in doc["records"]:
            if isinstance(rec, dict) and "compiledRelease" in rec:
                yield rec["compiledRelease"]
    else:
        yield doc


def _org_id(ref: Any) -> str:
    if not isinstance(ref, dict):
        return ""
    ident = ref.get("identifier")
    for v in (ref.get("id"), ident.get("id") if isinstance(ident, dict) else None, ref.get("name")):
        if v not in (None, ""):
            return str(v)
    return ""


def _obj(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _date_of(release: Mapping[str, Any]) -> dt.date:
    tender = release.get("tender") or {}
    period = tender.get("tenderPeriod") or {} if isinstance(tender, dict) else {}
    for v in (period.get("endDate") if isinstance(period, dict) else None, release.get("date")):
        if isinstance(v, str):
            try:
                return parse_date(v)
            except ValueError:
                continue
    return NO_DATE


def read_ocds(stream: IO[str], validate: Validator | None = None, progress: Progress | None = None) -> Loaded:
    """JSON Lines of compiled releases with the bid extension's ``bids.details``."""
    b = _Builder("ocds")
    for line, text in enumerate(stream, 1):
        if progress is not None:
            progress(1)
        if not text.strip():
            continue
        b.out.rows += 1
        try:
            doc = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            b.problem(line, "json.invalid", str(exc)[:200])
            continue
        for release in _releases(doc):
            _release(b, line, release, validate)
    return b.out


def _release(b: _Builder, line: int, release: Any, validate: Validator | None) -> None:
    if not isinstance(release, dict):
        b.problem(line, "ocds.not_a_release")
        return
    if validate is not None:
        errors = validate(release)
        if errors:
            b.problem(line, "ocds.schema", "; ".join(errors[:3]))
            return
    tender_id = str(release.get("ocid") or "").strip()
    if not tender_id:
        b.problem(line, "tender_id.missing", "ocid")
        return
    details = (release.get("bids") or {}).get("details") if isinstance(release.get("bids"), dict) else None
    if not isinstance(details, list) or not details:
        b.problem(line, "ocds.no_bids", tender_id)
        return
    date = _date_of(release)
    tender = _obj(release.get("tender"))
    estimate = None
    amount = _obj(tender.get("value")).get("amount")
    if isinstance(amount, int | float) and not isinstance(amount, bool) and amount > 0:
        estimate = float(amount)
    won_bids: set[str] = set()
    won_firms: set[str] = set()
    for award in release.get("awards") or []:
        if not isinstance(award, dict) or award.get("status") not in (None, "active", "pending"):
            continue
        won_bids.update(str(x) for x in award.get("relatedBids") or [] if x is not None)
        if award.get("relatedBid"):
            won_bids.add(str(award["relatedBid"]))
        won_firms.update(_org_id(s) for s in award.get("suppliers") or [])
    names = {
        _org_id(p): str(p.get("name") or "") for p in release.get("parties") or [] if isinstance(p, dict)
    }
    for i, bid in enumerate(details):
        where = f"{tender_id} bids.details[{i}]"
        if not isinstance(bid, dict):
            b.problem(line, "ocds.bid_invalid", where)
            continue
        if bid.get("status") in ("invited", "withdrawn"):
            continue  # not a bid that was in the opening
        try:
            amount = _obj(bid.get("value")).get("amount")
            if isinstance(amount, bool) or not isinstance(amount, int | float | str):
                raise ValueError("no amount")
            price = parse_amount(str(amount))
        except ValueError as exc:
            b.problem(line, "price.invalid", f"{where}: {exc}")
            continue
        firms = sorted({f for f in (_org_id(t) for t in bid.get("tenderers") or []) if f})
        bidder = "+".join(firms) if firms else b.anon(tender_id)  # a consortium is one bidder
        winner = str(bid.get("id")) in won_bids or bool(firms and set(firms) <= won_firms)
        rec = BidRecord(tender_id, bidder, price, date, winner, estimate)
        b.add(line, rec, name=names.get(firms[0], "") if len(firms) == 1 else "")


# ---- loading, scoring, writing ---------------------------------------------------------------
def sniff_format(path: Path) -> str:
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return "ocds"
    return "csv"


def load(
    path: Path, fmt: str | None = None, validate: Validator | None = None, progress: Progress | None = None
) -> Loaded:
    fmt = fmt or sniff_format(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            if fmt == "ocds":
                return read_ocds(stream, validate, progress)
            return read_csv(stream, progress)
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc}") from None


def detector_for(loaded: Loaded, params: DetectorParams | None = None) -> Detector:
    return Detector.from_records(loaded.companies.values(), loaded.bids, loaded.tenders.values(), params)


def score(
    loaded: Loaded, params: DetectorParams | None = None, progress: Progress | None = None
) -> list[TenderRisk]:
    """Region-wide batch over everything loaded (history and the tenders to score are one input)."""
    return detector_for(loaded, params).batch(progress=progress)


def reasons_cell(result: TenderRisk) -> str:
    return ";".join(result.reason_keys)


def write_csv(results: Iterable[TenderRisk], stream: IO[str], explain: str | None = None) -> int:
    w = csv.writer(stream, lineterminator="\n")
    w.writerow([*OUTPUT_COLUMNS, *(["explanation"] if explain else [])])
    n = 0
    for r in results:
        row = [r.tender_id, f"{r.risk:.4f}", r.level.value, reasons_cell(r)]
        if explain:
            row.append(" | ".join(x.text(explain) for x in r.reasons))
        w.writerow(row)
        n += 1
    return n
