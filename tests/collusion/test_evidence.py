import json

import pytest

from collusion.evidence import (
    GROUNDS,
    SPECS,
    Evidence,
    EvidenceKind,
    Level,
    Strength,
    make_evidence,
    score_edge,
)
from collusion.records import Regime

K = EvidenceKind


def test_every_kind_has_spec_and_existing_grounds_in_both_regimes() -> None:
    assert set(SPECS) == set(K)
    for kind, spec in SPECS.items():
        assert 0 < spec.weight <= 1
        assert spec.grounds, kind
        assert all(g in GROUNDS for g in spec.grounds), kind
        regimes = {GROUNDS[g].regime for g in spec.grounds}
        assert regimes == {Regime.BIDDING_LAW, Regime.GOV_PROCUREMENT}, kind


@pytest.mark.parametrize(
    ("kind", "code", "phrase"),
    [
        (K.SHARED_BOND_ACCOUNT, "BL40.6", "不同投标人的投标保证金从同一单位或者个人的账户转出"),
        (K.SHARED_BOND_ACCOUNT, "GP37.6", "不同投标人的投标保证金从同一单位或者个人的账户转出"),
        (K.SHARED_PROJECT_MANAGER, "BL40.3", "不同投标人的投标文件载明的项目管理成员为同一人"),
        (K.SHARED_CONTACT, "GP37.3", "项目管理成员或者联系人员为同一人"),
        (K.SHARED_AGENT, "BL40.2", "不同投标人委托同一单位或者个人办理投标事宜"),
        (K.SHARED_DEVICE, "BL40.1", "不同投标人的投标文件由同一单位或者个人编制"),
        (K.NEAR_IDENTICAL_DOC, "BL40.4", "不同投标人的投标文件异常一致或者投标报价呈规律性差异"),
        (K.REGULAR_PRICE_STEPS, "GP37.4", "投标报价呈规律性差异"),
        (K.MIXED_DOCUMENTS, "BL40.5", "不同投标人的投标文件相互混装"),
        (K.SHARED_LEGAL_REP, "BL34.2", "单位负责人为同一人或者存在控股、管理关系的不同单位"),
        (K.CONTROL_LINK, "GPR18.1", "存在直接控股、管理关系的不同供应商"),
        (K.COVER_BIDDING, "BL39.2.3", "投标人之间约定部分投标人放弃投标或者中标"),
        (K.BID_ROTATION, "BL39.2.2", "投标人之间约定中标人"),
    ],
)
def test_legal_mapping_quotes_the_article(kind: EvidenceKind, code: str, phrase: str) -> None:
    assert code in SPECS[kind].grounds
    assert phrase in GROUNDS[code].text
    e = make_evidence(kind, "A", "B", "x")
    assert code in [g.code for g in e.grounds]


def test_article_numbers_in_citations() -> None:
    assert "第四十条" in GROUNDS["BL40.1"].citation
    assert "视为投标人相互串通投标" in GROUNDS["BL40.1"].text
    assert "第三十九条" in GROUNDS["BL39.2.2"].citation
    assert "属于投标人相互串通投标" in GROUNDS["BL39.2.2"].text
    assert "第三十四条" in GROUNDS["BL34.2"].citation
    assert "财政部令第87号" in GROUNDS["GP37.1"].citation
    assert "第三十七条" in GROUNDS["GP37.1"].citation


def test_grounds_for_regime() -> None:
    e = make_evidence(K.SHARED_BOND_ACCOUNT, "A", "B", "acct")
    assert [g.code for g in e.grounds_for(Regime.GOV_PROCUREMENT)] == ["GP37.6"]
    assert [g.code for g in e.grounds_for(Regime.BIDDING_LAW)] == ["BL40.6"]


def test_hard_and_soft_classes() -> None:
    hard = {k for k, s in SPECS.items() if s.strength is Strength.HARD}
    assert K.SHARED_BOND_ACCOUNT in hard
    assert K.SHARED_LEGAL_REP in hard
    assert K.CONTROL_LINK in hard
    assert K.SHARED_IP not in hard
    assert K.COVER_BIDDING not in hard
    assert max(s.weight for s in SPECS.values() if s.strength is Strength.SOFT) < 0.8


def test_explanations_carry_concrete_values_in_both_languages() -> None:
    e = make_evidence(K.SHARED_IP, "B", "A", "1.2.3.4", ["T2", "T1"])
    assert (e.a, e.b, e.tenders) == ("A", "B", ("T1", "T2"))
    zh, en = e.explain("zh"), e.explain("en")
    for text in (zh, en):
        assert "1.2.3.4" in text
        assert "A" in text
        assert "B" in text
        assert "T1, T2" in text
    assert "同一 IP" in zh
    assert "same IP" in en


def test_cover_explanation_is_directed() -> None:
    e = make_evidence(K.COVER_BIDDING, "W", "C", "5/4", ["T1"], {"co": 5, "wins": 4}, ordered=True)
    assert (e.a, e.b) == ("W", "C")
    assert e.pair == ("C", "W")
    assert "C bid alongside W 5 times; W won 4" in e.explain("en")
    assert "C 与 W 共同投标 5 次" in e.explain("zh")


def test_nat_rule_demotes_and_scales() -> None:
    ok = make_evidence(K.SHARED_IP, "A", "B", "ip", firms=5, nat_threshold=5)
    nat = make_evidence(K.SHARED_IP, "A", "B", "ip", firms=20, nat_threshold=5)
    assert ok.weight == pytest.approx(0.6)
    assert nat.weight == pytest.approx(0.15)
    dev = make_evidence(K.SHARED_DEVICE, "A", "B", "d", firms=6, nat_threshold=5)
    assert not dev.hard
    assert dev.weight == pytest.approx(0.9 * 5 / 6)
    assert "20" in nat.explain("en")
    assert "NAT" in nat.explain("zh")
    # Persons and bank accounts are never demoted: the law names them literally.
    acct = make_evidence(K.SHARED_BOND_ACCOUNT, "A", "B", "x", firms=100, nat_threshold=5)
    assert acct.hard
    assert acct.weight == 1.0


def test_score_levels() -> None:
    ip = make_evidence(K.SHARED_IP, "A", "B", "ip")
    doc = make_evidence(K.NEAR_IDENTICAL_DOC, "A", "B", "0.9")
    assert score_edge([ip]).level is Level.MEDIUM
    assert score_edge([doc]).level is Level.MEDIUM
    two = score_edge([ip, doc])
    assert two.level is Level.HIGH
    assert not two.hard
    assert two.score == pytest.approx(1 - 0.4 * 0.3)
    assert score_edge([make_evidence(K.SHARED_BOND_ACCOUNT, "A", "B", "x")]).level is Level.HIGH


def test_many_nat_sightings_do_not_add_up() -> None:
    items = [make_evidence(K.SHARED_IP, "A", "B", "ip", [f"T{i}"], firms=30) for i in range(50)]
    s = score_edge(items)
    assert s.level is Level.LOW
    assert s.score == pytest.approx(0.1)


def test_to_json_round_trips() -> None:
    e = make_evidence(K.SHARED_AGENT, "A", "B", "P1", ["T1"])
    d = json.loads(json.dumps(e.to_json(), ensure_ascii=False))
    assert d["kind"] == "shared_agent"
    assert d["hard"] is True
    assert d["grounds"] == ["BL40.2", "GP37.2"]
    assert "P1" in d["explain_zh"]
    assert "P1" in d["explain_en"]
    assert isinstance(e, Evidence)
