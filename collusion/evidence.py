"""Evidence kinds, their hard/soft class and weight, the legal grounds they support, explanations.

Legal texts below are quoted from the published regulations. Note on numbering: in the
招标投标法实施条例 the "视为投标人相互串通投标" (deemed collusion) list is Article 40; Article 39 is the
"属于投标人相互串通投标" list (actual agreements), which the pattern evidence (cover bidding, rotation)
can only indicate, never prove.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from collusion.records import Regime


class Strength(StrEnum):
    HARD = "hard"  # on its own enough to put a pair in front of staff as "high"
    SOFT = "soft"  # indicative; needs corroboration from another kind to reach "high"


class Level(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class EvidenceKind(StrEnum):
    SHARED_IP = "shared_ip"
    SHARED_DEVICE = "shared_device"
    SHARED_BOND_ACCOUNT = "shared_bond_account"
    SHARED_DOC_METADATA = "shared_doc_metadata"
    SHARED_LEGAL_REP = "shared_legal_rep"
    SHARED_SHAREHOLDER = "shared_shareholder"
    CONTROL_LINK = "control_link"
    SHARED_AGENT = "shared_agent"
    SHARED_PROJECT_MANAGER = "shared_project_manager"
    SHARED_CONTACT = "shared_contact"
    NEAR_IDENTICAL_DOC = "near_identical_doc"
    IDENTICAL_ERROR = "identical_error"
    MIXED_DOCUMENTS = "mixed_documents"
    COVER_BIDDING = "cover_bidding"
    BID_ROTATION = "bid_rotation"
    REGULAR_PRICE_STEPS = "regular_price_steps"


@dataclass(frozen=True, slots=True)
class LegalGround:
    code: str  # stable id used in alerts and the archive
    regime: Regime
    citation: str  # instrument, article, paragraph, item
    text: str  # the quoted provision


_BL = "《中华人民共和国招标投标法实施条例》"
_GP87 = "《政府采购货物和服务招标投标管理办法》（财政部令第87号）"
_GPR = "《中华人民共和国政府采购法实施条例》"
_ART40 = "有下列情形之一的，视为投标人相互串通投标："
_ART37 = "有下列情形之一的，视为投标人串通投标，其投标无效："
_ART39 = "禁止投标人相互串通投标。有下列情形之一的，属于投标人相互串通投标："


def _g(code: str, regime: Regime, citation: str, text: str) -> LegalGround:
    return LegalGround(code, regime, citation, text)


BL, GP = Regime.BIDDING_LAW, Regime.GOV_PROCUREMENT
GROUNDS: dict[str, LegalGround] = {
    g.code: g
    for g in (
        _g(
            "BL34.2",
            BL,
            _BL + "第三十四条第二款",
            "单位负责人为同一人或者存在控股、管理关系的不同单位，不得参加同一标段投标或者未划分标段的同一招标项目投标。",
        ),
        _g("BL39.2.2", BL, _BL + "第三十九条第二款第（二）项", _ART39 + "……（二）投标人之间约定中标人；"),
        _g(
            "BL39.2.3",
            BL,
            _BL + "第三十九条第二款第（三）项",
            _ART39 + "……（三）投标人之间约定部分投标人放弃投标或者中标；",
        ),
        _g(
            "BL40.1",
            BL,
            _BL + "第四十条第（一）项",
            _ART40 + "（一）不同投标人的投标文件由同一单位或者个人编制；",
        ),
        _g(
            "BL40.2",
            BL,
            _BL + "第四十条第（二）项",
            _ART40 + "（二）不同投标人委托同一单位或者个人办理投标事宜；",
        ),
        _g(
            "BL40.3",
            BL,
            _BL + "第四十条第（三）项",
            _ART40 + "（三）不同投标人的投标文件载明的项目管理成员为同一人；",
        ),
        _g(
            "BL40.4",
            BL,
            _BL + "第四十条第（四）项",
            _ART40 + "（四）不同投标人的投标文件异常一致或者投标报价呈规律性差异；",
        ),
        _g("BL40.5", BL, _BL + "第四十条第（五）项", _ART40 + "（五）不同投标人的投标文件相互混装；"),
        _g(
            "BL40.6",
            BL,
            _BL + "第四十条第（六）项",
            _ART40 + "（六）不同投标人的投标保证金从同一单位或者个人的账户转出。",
        ),
        _g(
            "GP37.1",
            GP,
            _GP87 + "第三十七条第（一）项",
            _ART37 + "（一）不同投标人的投标文件由同一单位或者个人编制；",
        ),
        _g(
            "GP37.2",
            GP,
            _GP87 + "第三十七条第（二）项",
            _ART37 + "（二）不同投标人委托同一单位或者个人办理投标事宜；",
        ),
        _g(
            "GP37.3",
            GP,
            _GP87 + "第三十七条第（三）项",
            _ART37 + "（三）不同投标人的投标文件载明的项目管理成员或者联系人员为同一人；",
        ),
        _g(
            "GP37.4",
            GP,
            _GP87 + "第三十七条第（四）项",
            _ART37 + "（四）不同投标人的投标文件异常一致或者投标报价呈规律性差异；",
        ),
        _g("GP37.5", GP, _GP87 + "第三十七条第（五）项", _ART37 + "（五）不同投标人的投标文件相互混装；"),
        _g(
            "GP37.6",
            GP,
            _GP87 + "第三十七条第（六）项",
            _ART37 + "（六）不同投标人的投标保证金从同一单位或者个人的账户转出。",
        ),
        _g(
            "GPR18.1",
            GP,
            _GPR + "第十八条第一款",
            "单位负责人为同一人或者存在直接控股、管理关系的不同供应商，不得参加同一合同项下的政府采购活动。",
        ),
        # Quoted from memory, not checked against the gazette text: verify before it reaches a notice.
        _g(
            "GPR74.5",
            GP,
            _GPR + "第七十四条第（五）项",
            "有下列情形之一的，属于恶意串通……（五）供应商之间事先约定由某一特定供应商中标、成交；",
        ),
        _g(
            "GPR74.6",
            GP,
            _GPR + "第七十四条第（六）项",
            "有下列情形之一的，属于恶意串通……（六）供应商之间商定部分供应商放弃参加政府采购活动或者放弃中标、成交；",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class KindSpec:
    strength: Strength
    weight: float
    grounds: tuple[str, ...]
    zh: str  # explanation template; fields: a, b, value, tenders, plus the item's detail keys
    en: str
    demotable: bool = False  # shared infrastructure (NAT, kiosk, template, agency phone) is common


_H, _S = Strength.HARD, Strength.SOFT
_T = "（招标项目：{tenders}）"
_TE = " (tenders: {tenders})"

SPECS: dict[EvidenceKind, KindSpec] = {
    EvidenceKind.SHARED_BOND_ACCOUNT: KindSpec(
        _H,
        1.0,
        ("BL40.6", "GP37.6"),
        "{a} 与 {b} 的投标保证金从同一账户 {value} 转出" + _T,
        "The bid bonds of {a} and {b} were paid from the same account {value}" + _TE,
    ),
    EvidenceKind.SHARED_LEGAL_REP: KindSpec(
        _H,
        1.0,
        ("BL34.2", "GPR18.1"),
        "{a} 与 {b} 的单位负责人（法定代表人）为同一人：{value}",
        "{a} and {b} have the same legal representative: {value}",
    ),
    EvidenceKind.CONTROL_LINK: KindSpec(
        _H,
        1.0,
        ("BL34.2", "GPR18.1"),
        "{a} 与 {b} 存在控股关系：{value}",
        "{a} and {b} are linked by control: {value}",
    ),
    EvidenceKind.SHARED_PROJECT_MANAGER: KindSpec(
        _H,
        0.95,
        ("BL40.3", "GP37.3"),
        "{a} 与 {b} 的投标文件载明的项目管理成员为同一人：{value}" + _T,
        "The bids of {a} and {b} name the same project management member: {value}" + _TE,
    ),
    EvidenceKind.SHARED_AGENT: KindSpec(
        _H,
        0.95,
        ("BL40.2", "GP37.2"),
        "{a} 与 {b} 委托同一人办理投标事宜：{value}" + _T,
        "{a} and {b} had their bids handled by the same agent: {value}" + _TE,
    ),
    EvidenceKind.MIXED_DOCUMENTS: KindSpec(
        _H,
        0.95,
        ("BL40.5", "GP37.5"),
        "{a} 的投标文件中出现 {b} 的单位信息（{value}），投标文件相互混装" + _T,
        "The bid document of {a} contains details of {b} ({value}): documents mixed up" + _TE,
    ),
    EvidenceKind.SHARED_DEVICE: KindSpec(
        _H,
        0.9,
        ("BL40.1", "GP37.1"),
        "{a} 与 {b} 的投标文件在同一设备上制作（设备特征码 {value}）" + _T,
        "The bid documents of {a} and {b} were prepared on the same device (fingerprint {value})" + _TE,
        demotable=True,
    ),
    EvidenceKind.IDENTICAL_ERROR: KindSpec(
        _H,
        0.9,
        ("BL40.4", "GP37.4"),
        "{a} 与 {b} 的报价清单出现相同的异常错误：{value}" + _T,
        "The price schedules of {a} and {b} contain the same unusual error: {value}" + _TE,
        demotable=True,
    ),
    EvidenceKind.NEAR_IDENTICAL_DOC: KindSpec(
        _S,
        0.7,
        ("BL40.4", "GP37.4"),
        "{a} 与 {b} 的投标文件异常一致（去除公共模板后的相似度约 {value}）" + _T,
        "The bid documents of {a} and {b} are near-identical (similarity ~{value} after removing "
        "common template text)" + _TE,
    ),
    EvidenceKind.SHARED_IP: KindSpec(
        _S,
        0.6,
        ("BL40.1", "BL40.2", "GP37.1", "GP37.2"),
        "{a} 与 {b} 从同一 IP 地址 {value} 提交投标文件" + _T,
        "{a} and {b} submitted their bids from the same IP address {value}" + _TE,
        demotable=True,
    ),
    EvidenceKind.SHARED_CONTACT: KindSpec(
        _S,
        0.6,
        ("GP37.3", "BL40.2"),
        "{a} 与 {b} 的联系人员或联系方式相同：{value}" + _T,
        "{a} and {b} give the same contact person or contact details: {value}" + _TE,
        demotable=True,
    ),
    EvidenceKind.COVER_BIDDING: KindSpec(
        _S,
        0.6,
        ("BL39.2.3", "GPR74.6"),
        "{b} 与 {a} 共同投标 {co} 次，{a} 中标 {wins} 次，{b} 从未中标（疑似陪标）" + _T,
        "{b} bid alongside {a} {co} times; {a} won {wins} of them and {b} never won "
        "(suspected cover bidding)" + _TE,
    ),
    EvidenceKind.BID_ROTATION: KindSpec(
        _S,
        0.6,
        ("BL39.2.2", "GPR74.5"),
        "{a} 与 {b} 同属投标组 {value}，组内成员在 {joint} 次共同投标中轮流中标（疑似轮流坐庄）" + _T,
        "{a} and {b} belong to bidder group {value} whose members took turns winning "
        "{joint} joint tenders (suspected bid rotation)" + _TE,
    ),
    EvidenceKind.REGULAR_PRICE_STEPS: KindSpec(
        _S,
        0.6,
        ("BL40.4", "GP37.4"),
        "{a} 与 {b} 的投标报价呈规律性差异：{value}" + _T,
        "The prices of {a} and {b} differ by a regular step: {value}" + _TE,
    ),
    EvidenceKind.SHARED_DOC_METADATA: KindSpec(
        _S,
        0.5,
        ("BL40.1", "GP37.1"),
        "{a} 与 {b} 的投标文件元数据（作者/制作工具/创建时间）完全相同：{value}" + _T,
        "The bid documents of {a} and {b} carry identical metadata (author/tool/creation time): {value}"
        + _TE,
        demotable=True,
    ),
    # A common minority shareholder is not a 控股、管理关系 between the bidders themselves; whether
    # sister companies under one controller fall under Art. 34 is decided case by case (our reading,
    # not settled), so this stays soft even for a common controller.
    EvidenceKind.SHARED_SHAREHOLDER: KindSpec(
        _S,
        0.4,
        ("BL34.2", "GPR18.1"),
        "{a} 与 {b} 有共同股东 {value}",
        "{a} and {b} have a shareholder in common: {value}",
    ),
}

MAX_TENDERS_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Evidence:
    """One fact linking two companies; `a` < `b` except for directed kinds (cover: a wins, b covers)."""

    kind: EvidenceKind
    a: str
    b: str
    value: str
    weight: float
    hard: bool
    tenders: tuple[str, ...] = ()
    detail: tuple[tuple[str, str], ...] = ()  # extra facts for the explanation, e.g. ("firms", "23")

    @property
    def pair(self) -> tuple[str, str]:
        return (self.a, self.b) if self.a < self.b else (self.b, self.a)

    @property
    def grounds(self) -> tuple[LegalGround, ...]:
        return tuple(GROUNDS[c] for c in SPECS[self.kind].grounds)

    def grounds_for(self, regime: Regime) -> tuple[LegalGround, ...]:
        return tuple(g for g in self.grounds if g.regime is regime)

    def _fields(self, names: Mapping[str, str]) -> dict[str, str]:
        shown = ", ".join(names.get(t) or t for t in self.tenders[:MAX_TENDERS_SHOWN])
        if len(self.tenders) > MAX_TENDERS_SHOWN:
            shown += f", … ({len(self.tenders)})"
        a, b = names.get(self.a) or self.a, names.get(self.b) or self.b
        return {"a": a, "b": b, "value": self.value, "tenders": shown or "-", **dict(self.detail)}

    def explain(self, lang: str = "zh", names: Mapping[str, str] | None = None) -> str:
        """One sentence for reviewers; ``names`` shows firms and tenders by name (reference)
        instead of by id."""
        spec = SPECS[self.kind]
        text = (spec.zh if lang == "zh" else spec.en).format_map(self._fields(names or {}))
        firms = dict(self.detail).get("firms")
        if firms is not None and not self.hard and spec.demotable:
            text += (
                f"；该值在本地区被 {firms} 家企业使用，按公共设施（NAT/模板/代理）降权"
                if lang == "zh"
                else f"; the value is used by {firms} firms region-wide, treated as shared infrastructure "
                "(NAT/template/agency) and down-weighted"
            )
        return text

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "a": self.a,
            "b": self.b,
            "value": self.value,
            "weight": round(self.weight, 4),
            "hard": self.hard,
            "tenders": list(self.tenders),
            "detail": dict(self.detail),
            "grounds": [g.code for g in self.grounds],
            "explain_zh": self.explain("zh"),
            "explain_en": self.explain("en"),
        }


def make_evidence(
    kind: EvidenceKind,
    a: str,
    b: str,
    value: str,
    tenders: Iterable[str] = (),
    detail: Mapping[str, object] | None = None,
    *,
    firms: int = 2,
    nat_threshold: int = 5,
    weight: float | None = None,
    ordered: bool = False,
) -> Evidence:
    """Build an evidence item, applying the shared-infrastructure rule.

    Rule: for a demotable kind (IP, device, document metadata, contact, error signature), a value used by
    more than `nat_threshold` distinct firms region-wide is treated as shared infrastructure (an office
    NAT, a public kiosk, a widely circulated template, an agency phone). The item is demoted to soft and
    its weight scaled by nat_threshold / firms, so it can never reach "high" on its own.
    """
    spec = SPECS[kind]
    w = spec.weight if weight is None else weight
    hard = spec.strength is Strength.HARD
    det = {k: str(v) for k, v in (detail or {}).items()}
    if spec.demotable and firms > nat_threshold:
        hard = False
        w *= nat_threshold / firms
        det["firms"] = str(firms)
    if not ordered and b < a:
        a, b = b, a
    return Evidence(kind, a, b, value, w, hard, tuple(sorted(set(tenders))), tuple(det.items()))


@dataclass(frozen=True, slots=True)
class EdgeScore:
    score: float
    level: Level
    hard: bool
    kinds: tuple[EvidenceKind, ...]


HIGH_SCORE = 0.8
MEDIUM_SCORE = 0.5


def score_edge(items: Iterable[Evidence]) -> EdgeScore:
    """Combine a pair's evidence: the strongest item per kind, then noisy-OR across kinds.

    Taking the maximum within a kind stops one NAT seen in many tenders from adding up to "high"; the
    largest soft weight (0.7) is below HIGH_SCORE, so "high" needs a hard item or two independent kinds.
    """
    best: dict[EvidenceKind, float] = {}
    hard = False
    for e in items:
        best[e.kind] = max(best.get(e.kind, 0.0), e.weight)
        hard = hard or e.hard
    miss = 1.0
    for w in best.values():
        miss *= 1.0 - min(w, 1.0)
    score = 1.0 - miss
    level = (
        Level.HIGH if hard or score >= HIGH_SCORE else Level.MEDIUM if score >= MEDIUM_SCORE else Level.LOW
    )
    return EdgeScore(score, level, hard, tuple(sorted(best)))
