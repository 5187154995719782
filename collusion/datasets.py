"""Loader for the labelled bid-rigging markets (García Rodríguez et al. 2022, CC BY-NC-ND 4.0).

The CSVs stay outside the repository (licence: non-commercial, no derivatives); they are read from
``<repo>/../shared/data/collusion`` or from ``$TENDERHALL_COLLUSION_DATA``.  Only the raw bid prices,
the winner flag, the firm ids (for the unsupervised bidder-network features, where the file has them)
and the tender-level label are used: tender ids serve as group keys only, and the authors'
precomputed screens and dates are ignored because they leak or are defined differently.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "TENDERHALL_COLLUSION_DATA"

#: Market name -> CSV file name, in the fixed order used everywhere (training, reports).
MARKET_FILES: dict[str, str] = {
    "USA": "DB_Collusion_America_processed.csv",
    "Brazil": "DB_Collusion_Brazil_processed.csv",
    "Italy": "DB_Collusion_Italy_processed.csv",
    "Switzerland GR/See-Gaster": "DB_Collusion_Switzerland_GR_and_See-Gaster_processed.csv",
}


#: Pre-tender estimate column, and the factor that puts it in the unit of ``Bid_value``: the Italian
#: file stores each bid as PTE x (100 - discount %), i.e. in hundredths of the estimate's unit (checked:
#: Bid_value / (100 PTE) = 1 - "Difference Bid/PTE" / 100 on every row).
ESTIMATE_COLUMN = "Pre-Tender Estimate (PTE)"
ESTIMATE_SCALE: dict[str, float] = {"Brazil": 1.0, "Italy": 100.0}
#: Column naming the tender's category, where the file has one (ranks are taken within a category
#: that is large enough; see collusion.relative).
CATEGORY_COLUMN: dict[str, str] = {"Brazil": "Brazilian State", "Switzerland GR/See-Gaster": "Contract_type"}
#: Award rule: the Italian tenders are average-bid auctions, the others lowest-price.
PRICE_METHOD: dict[str, str] = {"Italy": "average"}


class DataMissingError(FileNotFoundError):
    """The labelled data folder or one of its files is absent."""


@dataclass(frozen=True, slots=True)
class Tender:
    market: str
    #: Group key for the folds only; never a feature.
    tender_id: str
    prices: tuple[float, ...]
    winner_index: int | None
    collusive: bool
    #: Firm id of each bid, in bid order; empty strings where the file has no ``Competitors`` column.
    #: Never a feature itself: only ``market_features`` reads it, without labels.
    bidders: tuple[str, ...] = ()
    #: Pre-tender estimate in the unit of the prices; None where the file has none.
    estimate: float | None = None
    #: Category within the market ("" where the file has none); used only to rank within a category.
    category: str = ""
    #: "lowest" or "average" (average-bid auction); recorded, not a feature.
    price_method: str = "lowest"


def default_data_dir() -> Path:
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "collusion"


def data_available(data_dir: Path | None = None) -> bool:
    d = data_dir or default_data_dir()
    return all((d / name).is_file() for name in MARKET_FILES.values())


def _path(market: str, data_dir: Path) -> Path:
    if market not in MARKET_FILES:
        raise KeyError(f"unknown market {market!r}; known: {', '.join(MARKET_FILES)}")
    path = data_dir / MARKET_FILES[market]
    if not path.is_file():
        raise DataMissingError(f"labelled collusion data not found: {path} (set ${ENV_VAR})")
    return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def data_hashes(data_dir: Path | None = None, markets: Iterable[str] = MARKET_FILES) -> dict[str, str]:
    d = data_dir or default_data_dir()
    return {MARKET_FILES[m]: sha256_file(_path(m, d)) for m in markets}


def load_market(market: str, data_dir: Path | None = None) -> list[Tender]:
    """Tenders of one market in file order, bids in file order."""
    path = _path(market, data_dir or default_data_dir())
    bids: dict[str, list[tuple[float, bool, bool, str]]] = {}
    estimate: dict[str, float | None] = {}
    category: dict[str, str] = {}
    scale = ESTIMATE_SCALE.get(market)
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            won = float(row["Winner"] or 0) == 1.0
            label = float(row["Collusive_competitor"]) == 1.0
            firm = (row.get("Competitors") or "").strip()
            bids.setdefault(row["Tender"], []).append((float(row["Bid_value"]), won, label, firm))
            pte = (row.get(ESTIMATE_COLUMN) or "").strip() if scale is not None else ""
            estimate.setdefault(
                row["Tender"], float(pte) * scale if pte and float(pte) > 0 and scale else None
            )
            category.setdefault(row["Tender"], (row.get(CATEGORY_COLUMN.get(market, "")) or "").strip())
    tenders = []
    for tid, rows in bids.items():
        labels = {r[2] for r in rows}
        if len(labels) != 1:
            raise ValueError(f"{path.name}: tender {tid} has mixed labels")
        winners = [i for i, r in enumerate(rows) if r[1]]
        # Several winners (split lots in the Swiss data) or none: let the screens assume the lowest.
        winner = winners[0] if len(winners) == 1 else None
        tenders.append(
            Tender(
                market,
                tid,
                tuple(r[0] for r in rows),
                winner,
                labels.pop(),
                tuple(r[3] for r in rows),
                estimate[tid],
                category[tid],
                PRICE_METHOD.get(market, "lowest"),
            )
        )
    return tenders


def load_all(data_dir: Path | None = None) -> dict[str, list[Tender]]:
    return {m: load_market(m, data_dir) for m in MARKET_FILES}
