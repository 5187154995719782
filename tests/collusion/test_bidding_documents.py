"""Document evidence from a real opening: the hall reads each package's documents while it decrypts
(metadata and text, sealed at rest), and the detector finds what the packages share.

Four bidders: two submit PDFs written by the same author with the same tool at the same minute and
with the same wording (文件属性一致, near-identical documents: 实施条例 第四十条(一)(二)); one names the
fourth bidder's credit code in its own documents (mixed documents); the two who share a project
manager's registration certificate are found too.  The fourth is honest.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from sqlalchemy import select
from weasyprint import HTML

from bidding.models import Bid
from bidding.package import pack
from bidding.service import Bidding
from tenderhall.orgs.models import Company
from tenderhall.tenders.models import Tender
from tests.bidding.helpers import make_scene, seal_and_submit
from tests.collusion.test_bidding_source import PRICES, open_hall

COPIED = (
    "第一章 施工组织设计。本工程拟采用分段流水作业，基坑支护采用钻孔灌注桩加内支撑体系，"
    "主体结构采用泵送商品混凝土，模板采用十八毫米覆膜多层板，钢筋现场加工制作并集中堆放，"
    "雨季施工设置排水明沟与集水井，冬季施工采取综合蓄热法养护，确保工程质量一次验收合格。"
    "项目部设安全员两名、质检员两名，每日开展班前安全交底，每周组织一次联合检查。"
)
OWN = [
    "我公司针对本项目编制了独立的施工方案，采用装配式钢结构体系，缩短现场湿作业时间。",
    "本公司承诺按招标文件要求组织施工，投入挖掘机三台、塔吊一台，工期一百五十日历天。",
]


def pdf(path: Path, author: str, tool: str, created: str, text: str) -> Path:
    HTML(
        string=f"""<html><head><meta name="author" content="{author}">
        <meta name="generator" content="{tool}"><meta name="dcterms.created" content="{created}">
        </head><body><p>{text}</p></body></html>"""
    ).write_pdf(path)
    return path


def package(tmp: Path, name: str, price: str, doc: Path, **form: Any) -> bytes:
    folder = tmp / name
    folder.mkdir()
    target = folder / doc.name
    doc.rename(target)
    out = io.BytesIO()
    base = {"price": price, "duration_days": 150, "quality": "合格", "project_manager": "赵工"}
    pack({**base, **form}, [target], out)
    return out.getvalue()


async def test_documents_read_at_opening_become_evidence(client, world, clock, services, tmp_path) -> None:
    scene = await make_scene(services, world, client, bidders=4)
    same_minute = "2026-02-20T10:15:00+08:00"
    docs = [
        pdf(tmp_path / "a.pdf", "刘晓", "标书助手 2.1", same_minute, COPIED),
        pdf(tmp_path / "b.pdf", "刘晓", "标书助手 2.1", same_minute, COPIED + "报价详见报价单。"),
        pdf(
            tmp_path / "c.pdf",
            "陈静",
            "WPS",
            "2026-02-11T09:00:00+08:00",
            OWN[0] + f" 投标人统一社会信用代码：{scene.bidders[3].uscc}",
        ),
        pdf(tmp_path / "d.pdf", "周敏", "Word", "2026-02-13T16:40:00+08:00", OWN[1]),
    ]
    certs = ["沪131202012345", "沪131202012345", None, "苏132191900001"]
    blobs = {}
    for i, bidder in enumerate(scene.bidders):
        extra = {"project_manager_certificate": certs[i]} if certs[i] else {}
        plain = package(tmp_path, f"p{i}", PRICES[i], docs[i], **extra)
        blobs[i] = await seal_and_submit(client, scene, bidder, f"bid-{i}", package=plain)
    await open_hall(client, clock, scene, blobs)

    # The facts are kept sealed: the row holds ciphertext, the opening unseals them.
    hall = services.get(Bidding).hall
    async with services.transaction() as db:
        bids = {b.bid_ref: b for b in (await db.scalars(select(Bid).where(Bid.tender_id == scene.tender_id)))}
        assert "刘晓".encode() not in bids["bid-0"].sealed_documents
        facts = hall.documents(bids["bid-0"])
    assert facts is not None
    assert (facts.author, facts.documents) == ("刘晓", ["a.pdf"])
    assert facts.tool.startswith("标书助手 2.1 / WeasyPrint")  # creator, then the producer

    staff = world.auth("staff")
    listed = (await client.get("/api/v1/collusion/alerts", headers=staff)).json()
    assert listed["total"] == 1, listed
    detail = (await client.get(f"/api/v1/collusion/alerts/{listed['items'][0]['id']}", headers=staff)).json()
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for reason in detail["reasons"]:
        by_kind.setdefault(reason["key"].removeprefix("evidence."), []).append(reason)
    ids = [str(b.company_id) for b in scene.bidders]
    pair = {ids[0], ids[1]}

    def between(kind: str) -> set[frozenset[str]]:
        return {frozenset((r["evidence"]["a"], r["evidence"]["b"])) for r in by_kind.get(kind, [])}

    assert pair in between("shared_doc_metadata"), by_kind.keys()
    assert pair in between("near_identical_doc")
    assert pair in between("shared_project_manager")
    assert frozenset((ids[2], ids[3])) in between("mixed_documents")
    # Reviewers read firms by name, not by id.
    async with services.transaction() as db:
        names = {
            str(c.id): c.name
            for c in await db.scalars(
                select(Company).where(Company.id.in_([b.company_id for b in scene.bidders]))
            )
        }
    meta = by_kind["shared_doc_metadata"][0]
    assert names[ids[0]] in meta["zh"]
    assert names[ids[1]] in meta["zh"]
    assert ids[0] not in meta["zh"]
    async with services.transaction() as db:
        reference = (await db.get(Tender, scene.tender_id)).reference
    assert reference in meta["zh"]  # the tender by its reference number, not its id
    assert str(scene.tender_id) not in meta["zh"]
    honest = ids[3]
    for kind in ("shared_doc_metadata", "near_identical_doc", "shared_project_manager"):
        assert all(honest not in p for p in between(kind)), kind
