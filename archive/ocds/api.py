"""The OCDS API (``/api/v1/ocds``): open data for anyone, no sign-in.

Every answer's ETag is the SHA-256 of its bytes (a package's date is its data's, never the
clock's), so a data user polling the feed with If-None-Match gets 304 until something changed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from archive.ocds import feed, records
from archive.ocds.schemas import RecordPackageOut, ReleasePackageOut
from tenderhall.auth.policy import Subject
from tenderhall.errors import InvalidInput
from tenderhall.services import Services
from tenderhall.web.deps import READ
from tenderhall.web.openapi import PUBLIC

Ocid = Annotated[str, Parameter(max_length=100, description="the tender's ocid: <prefix>-<tender id>")]
IfNoneMatch = Annotated[str | None, Parameter(header="if-none-match", max_length=2000)]
NOT_MODIFIED = ResponseSpec(None, description="Not modified: the copy named in If-None-Match is current")


def _answer(body: msgspec.Struct, if_none_match: str | None) -> Response[Any]:
    data = msgspec.json.encode(body)
    etag = f'"{hashlib.sha256(data).hexdigest()}"'
    headers = {"etag": etag, "cache-control": "no-cache"}
    tags = [t.strip().removeprefix("W/") for t in (if_none_match or "").split(",")]
    if if_none_match is not None and ("*" in tags or etag in tags):
        return Response(b"", status_code=304, headers=headers)
    return Response(data, media_type="application/json", headers=headers)


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("ocds.since_invalid") from None
    if when.tzinfo is None:
        raise InvalidInput("ocds.since_invalid")
    return when


class OcdsController(Controller):
    path = records.PATH
    tags = ["ocds"]

    @get(
        "/releases",
        summary="The release feed: a release package of public tenders' current releases, by date",
        description="Oldest change first; follow `links.next` for the next page (absent on the last). "
        "OCDS 1.1.5 release package with the bid details extension.",
        opt=PUBLIC,
        dependencies=READ,
        responses={
            200: ResponseSpec(ReleasePackageOut, description="An OCDS release package"),
            304: NOT_MODIFIED,
        },
    )
    async def release_feed(
        self,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
        cursor: Annotated[str | None, Parameter(max_length=feed.MAX_CURSOR)] = None,
        since: Annotated[
            str | None, Parameter(max_length=40, description="only tenders changed at or after (RFC 3339)")
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=feed.MAX_LIMIT)] = feed.DEFAULT_LIMIT,
        if_none_match: IfNoneMatch = None,
    ) -> Response[Any]:
        package = await records.feed_page(
            db_session, services, who, cursor=cursor, since=_since(since), limit=limit
        )
        return _answer(msgspec.convert(package, ReleasePackageOut), if_none_match)

    @get(
        "/releases/{ocid:str}",
        summary="A published tender's current release, in a release package",
        opt=PUBLIC,
        dependencies=READ,
        responses={
            200: ResponseSpec(ReleasePackageOut, description="An OCDS release package"),
            304: NOT_MODIFIED,
        },
    )
    async def release(
        self,
        ocid: Ocid,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
        if_none_match: IfNoneMatch = None,
    ) -> Response[Any]:
        tender = await records.tender_of(db_session, services, who, ocid)
        package = await records.release_package(db_session, services, tender)
        return _answer(msgspec.convert(package, ReleasePackageOut), if_none_match)

    @get(
        "/records/{ocid:str}",
        summary="A published tender's compiled record, in a record package",
        opt=PUBLIC,
        dependencies=READ,
        responses={
            200: ResponseSpec(RecordPackageOut, description="An OCDS record package"),
            304: NOT_MODIFIED,
        },
    )
    async def record(
        self,
        ocid: Ocid,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
        if_none_match: IfNoneMatch = None,
    ) -> Response[Any]:
        tender = await records.tender_of(db_session, services, who, ocid)
        package = await records.record_package(db_session, services, tender)
        return _answer(msgspec.convert(package, RecordPackageOut), if_none_match)
