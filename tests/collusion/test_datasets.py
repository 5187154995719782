"""Loader of the labelled markets: bids grouped by tender, winners, labels and firm ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from collusion import datasets


def _write(folder: Path, market: str, text: str) -> None:
    (folder / datasets.MARKET_FILES[market]).write_text(text, encoding="utf-8")


def test_firm_ids_winner_and_label(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "Brazil",
        "Tender,Competitors,Bid_value,Winner,Collusive_competitor\n"
        "1,f7,100.5,1.0,0\n1,f9,120,0.0,0\n2,f7,80,0.0,1\n2,f3,70,1.0,1\n",
    )
    t1, t2 = datasets.load_market("Brazil", tmp_path)
    assert (t1.tender_id, t1.prices, t1.winner_index, t1.collusive) == ("1", (100.5, 120.0), 0, False)
    assert t1.bidders == ("f7", "f9")
    assert (t2.bidders, t2.winner_index, t2.collusive) == (("f7", "f3"), 1, True)


def test_no_firm_column_and_several_winners(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "Switzerland GR/See-Gaster",
        "Bid_value,Collusive_competitor,Tender,Winner\n10,1,5,1.0\n11,1,5,1.0\n12,1,5,0.0\n",
    )
    (t,) = datasets.load_market("Switzerland GR/See-Gaster", tmp_path)
    assert t.bidders == ("", "", "")
    assert t.winner_index is None  # split lots: the screens assume the lowest bid won


def test_mixed_labels_are_rejected(tmp_path: Path) -> None:
    _write(tmp_path, "Italy", "Tender,Bid_value,Winner,Collusive_competitor\n1,10,1,1\n1,11,0,0\n")
    with pytest.raises(ValueError, match="mixed labels"):
        datasets.load_market("Italy", tmp_path)


@pytest.mark.skipif(
    not datasets.data_available(),
    reason=f"labelled collusion data absent from {datasets.default_data_dir()} (set ${datasets.ENV_VAR})",
)
def test_real_files_have_firm_ids_where_the_readme_says() -> None:
    data = datasets.load_all()
    for market, tenders in data.items():
        with_ids = sum(all(tb.bidders) for tb in tenders)
        assert with_ids == (0 if market == "Switzerland GR/See-Gaster" else len(tenders)), market
