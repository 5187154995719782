"""OCDS documents of published tenders, for the API and the tender archive.

Every document is for anyone (``ocds.view``: a tender that had a public notice, in any state
after it); a draft, or a tender terminated before its notice, is "not found" whatever is asked.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from archive.ocds import build, facts, feed
from tenderhall.auth.policy import Subject, permits
from tenderhall.errors import NotFound
from tenderhall.services import Services
from tenderhall.tenders.models import Tender

PATH = "/api/v1/ocds"
# A package's publishedDate is its newest tender's last change (the clock only for an empty
# page), so the same data always makes the same bytes: its digest is the ETag.


def ocid_of(services: Services, tender_id: uuid.UUID) -> str:
    return f"{services.settings.ocds_prefix}-{tender_id}"


def publisher(services: Services) -> build.Publisher:
    base = services.settings.base_url
    return build.Publisher(name=urlsplit(base).netloc or base, uri=base)


async def _visible(db: AsyncSession, services: Services, who: Subject, tender_id: uuid.UUID) -> Tender:
    tender = await db.get(Tender, tender_id)
    if tender is None or not permits(who, "ocds.view", await services.tenders.resource(db, tender, who)):
        raise NotFound("error.not_found", kind="tender")  # a draft is as absent as a made-up id
    return tender


async def _facts(db: AsyncSession, services: Services, tender: Tender) -> build.TenderFacts:
    return await facts.tender_facts(db, tender, ocid_of(services, tender.id), services.settings.base_url)


async def tender_of(db: AsyncSession, services: Services, who: Subject, ocid: str) -> Tender:
    tender_id = facts.tender_id_of(ocid, services.settings.ocds_prefix)
    if tender_id is None:
        raise NotFound("error.not_found", kind="tender")
    return await _visible(db, services, who, tender_id)


async def compiled_record(db: AsyncSession, services: Services, tender_id: uuid.UUID) -> dict[str, Any]:
    """The OCDS record of a published tender (its releases and compiled release), as the public
    API serves it inside a record package at ``/api/v1/ocds/records/{ocid}``.

    The tender archive attaches it as ``ocds-record.json``.  Deterministic for a given database
    state (nothing in it depends on when it is asked), so an attached copy can be compared with the
    published one.  Raises ``NotFound`` for a tender that does not exist or was never published.
    """
    tender = await _visible(db, services, Subject.anonymous(), tender_id)
    return build.record(await _facts(db, services, tender))


async def record_package(db: AsyncSession, services: Services, tender: Tender) -> dict[str, Any]:
    ocid = ocid_of(services, tender.id)
    record = build.record(await _facts(db, services, tender))
    uri = f"{services.settings.base_url}{PATH}/records/{ocid}"
    return build.record_package([record], uri, tender.updated_at, publisher(services))


async def release_package(db: AsyncSession, services: Services, tender: Tender) -> dict[str, Any]:
    ocid = ocid_of(services, tender.id)
    release = build.release(await _facts(db, services, tender))
    uri = f"{services.settings.base_url}{PATH}/releases/{ocid}"
    return build.release_package([release], uri, tender.updated_at, publisher(services), None)


async def feed_page(
    db: AsyncSession,
    services: Services,
    who: Subject,
    *,
    cursor: str | None,
    since: datetime | None,
    limit: int,
) -> dict[str, Any]:
    """One page of the release feed: the current release of each public tender, oldest change
    first; ``links.next`` continues after this page's last tender (absent on the last page)."""
    feed.check_limit(limit)
    after = feed.decode(cursor) if cursor is not None else None
    tenders: Sequence[Tender] = await facts.page(db, after, since, limit + 1)
    more = len(tenders) > limit
    tenders = tenders[:limit]
    resources = await services.tenders.resources(db, tenders, who)
    releases = [
        build.release(await _facts(db, services, t))
        for t in tenders
        if permits(who, "ocds.view", resources[t.id])
    ]
    base = f"{services.settings.base_url}{PATH}/releases"
    query: dict[str, str] = {"limit": str(limit)}
    if since is not None:
        query["since"] = build.stamp(since)
    next_url = None
    if more and tenders:
        last = tenders[-1]
        query["cursor"] = feed.encode(feed.Position(last.updated_at, last.id))
        next_url = f"{base}?{urlencode(query)}"
    this = {"limit": str(limit), **({"since": query["since"]} if "since" in query else {})}
    if cursor is not None:
        this["cursor"] = cursor
    uri = f"{base}?{urlencode(this)}"
    published = max((t.updated_at for t in tenders), default=None) or services.clock.now()
    return build.release_package(releases, uri, published, publisher(services), next_url)
