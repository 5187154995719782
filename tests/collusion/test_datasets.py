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


def test_estimate_category_and_price_method(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "Brazil",
        "Tender,Competitors,Bid_value,Winner,Collusive_competitor,Pre-Tender Estimate (PTE),Brazilian State\n"
        "1,f7,100.5,1.0,0,110,8\n1,f9,120,0.0,0,110,8\n2,f7,80,1.0,1,,3\n",
    )
    t1, t2 = datasets.load_market("Brazil", tmp_path)
    assert (t1.estimate, t1.category, t1.price_method) == (110.0, "8", "lowest")
    assert (t2.estimate, t2.category) == (None, "3")  # an empty estimate is unknown, not zero
    # Italy stores each bid as PTE x (100 - discount %): the estimate is put in the bids' unit.
    _write(
        tmp_path,
        "Italy",
        "Tender,Bid_value,Winner,Collusive_competitor,Pre-Tender Estimate (PTE)\n"
        "1,9000,1,1,100\n1,9500,0,1,100\n",
    )
    (it,) = datasets.load_market("Italy", tmp_path)
    assert (it.estimate, it.price_method, it.category) == (10000.0, "average", "")


@pytest.mark.skipif(
    not datasets.data_available(),
    reason=f"labelled collusion data absent from {datasets.default_data_dir()} (set ${datasets.ENV_VAR})",
)
def test_real_estimates_are_in_the_unit_of_the_bids() -> None:
    data = datasets.load_all()
    for market in ("USA", "Switzerland GR/See-Gaster"):
        assert all(t.estimate is None for t in data[market])
    # Italian discounts lie in [0, 100 %): every bid at or under the estimate.
    assert all(t.estimate is not None and max(t.prices) <= t.estimate * (1 + 1e-9) for t in data["Italy"])
    ratios = sorted(p / t.estimate for t in data["Brazil"] if t.estimate for p in t.prices)
    assert 0.9 < ratios[len(ratios) // 2] < 1.3  # bids around the estimate, not in another unit
