import numpy as np
import pytest

from collusion import similarity as sim
from collusion.records import LineItem

RNG = np.random.default_rng(7)


def cjk(n: int) -> str:
    return RNG.integers(0x4E00, 0x4E00 + 3000, size=n, dtype=np.uint32).tobytes().decode("utf-32-le")


def mutate(text: str, rate: float) -> str:
    chars = list(text)
    for i in np.flatnonzero(RNG.random(len(chars)) < rate):
        chars[i] = cjk(1)
    return "".join(chars)


def test_normalize_ignores_layout_and_punctuation() -> None:
    assert sim.normalize("投标 文件，第一章。\n ＡＢ") == "投标文件第一章ab"


def test_shingles_are_stable_and_do_not_straddle_texts() -> None:
    h1, o1 = sim.shingle_hashes(["甲乙丙丁戊己", "庚辛"])
    h2, _ = sim.shingle_hashes(["甲乙丙丁戊己"])
    assert h1.tolist() == h2.tolist()  # the short second text adds nothing, no cross-text window
    assert o1.tolist() == [0, 0]


def test_near_identical_copy_scores_high_and_unrelated_low() -> None:
    base = cjk(400)
    batch = sim.doc_signatures([base, mutate(base, 0.02), cjk(400)])
    assert batch.comparable.all()
    assert sim.similarity(batch.sig[0], batch.sig[1]) >= 0.7
    assert sim.similarity(batch.sig[0], batch.sig[2]) < 0.2


def test_template_text_is_removed_before_comparing() -> None:
    template = cjk(600)
    docs = [template + cjk(120) for _ in range(60)]  # 60 honest users of one public template
    counter = sim.ShingleCounter(template_min_docs=20)
    filtered = sim.doc_signatures(docs, counter)
    raw = sim.doc_signatures(docs)
    assert sim.similarity(raw.sig[0], raw.sig[1]) > 0.6  # without filtering they look copied
    assert sim.similarity(filtered.sig[0], filtered.sig[1]) < 0.2


def test_tender_document_text_is_boilerplate() -> None:
    quote = cjk(500)
    docs = [quote + cjk(100), quote + cjk(100)]
    b = sim.doc_signatures(docs, tender_texts=[quote, quote])
    assert sim.similarity(b.sig[0], b.sig[1]) < 0.2
    only_quote = sim.doc_signatures([quote], tender_texts=[quote])
    assert not only_quote.comparable[0]  # nothing of the bidder's own left


def test_lsh_candidates_and_incremental_index() -> None:
    base = cjk(300)
    docs = [cjk(300) for _ in range(50)] + [base, mutate(base, 0.02)]
    b = sim.doc_signatures(docs)
    pairs = sim.candidate_pairs(sim.band_keys(b.sig))
    assert [50, 51] in pairs.tolist()
    idx = sim.SignatureIndex()
    idx.add(b.sig[:51], range(51), [0] * 51)
    hits = idx.query(b.sig[51], 0.7)
    assert [(o, t) for o, t, _ in hits] == [(50, 0)]
    assert idx.query(b.sig[51], 0.7, owners=[1, 2]) == []
    assert [(o, t) for o, t, _ in idx.query(b.sig[51], 0.7, owners=[50])] == [(50, 0)]
    assert idx.by_tender[0] == list(range(51))


def test_identical_error_signature_fires_on_wrong_amount() -> None:
    items = (LineItem("3.2", 12, 450.0, 5500.0), LineItem("3.3", 2, 10.0, 20.0))
    assert sim.line_item_errors(items) == ("3.2: 12 × 450.00 ≠ 5500.00",)
    assert sim.line_item_errors(items, price=5520.0) == ("3.2: 12 × 450.00 ≠ 5500.00",)
    assert sim.line_item_errors(items, price=6000.0)[-1] == "Σ 5520.00 ≠ 6000.00"


def test_identical_error_near_miss_rounding_is_not_an_error() -> None:
    assert sim.line_item_errors((LineItem("1", 3, 3.333, 10.0),)) == ()
    assert sim.line_item_errors((LineItem("1", 3, 3.33, 9.99),)) == ()


def test_mixed_document_hits() -> None:
    others = [("B", "乙方建设工程有限公司", "91440300708461136T"), ("C", "丙方", "")]
    assert sim.mixed_document_hits("本投标人 91440300708461136T 承诺……", others) == [
        ("B", "91440300708461136T")
    ]
    assert sim.mixed_document_hits("投标人：乙方建设 工程有限公司", others) == [("B", "乙方建设工程有限公司")]
    # near misses: a 2-character name occurs by chance, an unrelated code
    assert sim.mixed_document_hits("丙方负责施工 91330100799655058B", others) == []


@pytest.mark.parametrize("n", [0, 1, 19])
def test_too_short_documents_are_not_comparable(n: int) -> None:
    assert not sim.doc_signatures([cjk(n)]).comparable[0]
