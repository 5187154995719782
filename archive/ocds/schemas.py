"""Typed answers of the OCDS API.

OCDS documents are large and free-form by design; the OpenAPI document types their top-level
fields (the package, the record, the release) and refers to the OCDS 1.1.5 schema and the bid
details extension for what lies inside (the parties, the tender, the bids, the awards), which the
tests validate against the standard's own JSON Schemas.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from tenderhall.web.api.schemas import documented

SCHEMA = "https://standard.open-contracting.org/1.1/en/schema/reference/"
Timestamp = Annotated[str, documented(format="date-time")]


def _see(field: str) -> msgspec.Meta:
    return msgspec.Meta(description=f"OCDS 1.1.5 `{field}` (see {SCHEMA}), with the bid details extension")


Obj = dict[str, Any]


class ReleaseOut(msgspec.Struct, rename="camel", omit_defaults=True):
    """One OCDS 1.1.5 release of a tender: its current state (the id ends in a digest of it)."""

    ocid: str
    id: str
    date: Timestamp
    tag: list[str]
    initiation_type: str
    language: str | None = None
    parties: Annotated[list[Obj], _see("parties")] | None = None
    buyer: Annotated[Obj, _see("buyer")] | None = None
    tender: Annotated[Obj, _see("tender")] | None = None
    bids: Annotated[Obj, _see("bids")] | None = None
    awards: Annotated[list[Obj], _see("awards")] | None = None
    contracts: Annotated[list[Obj], _see("contracts")] | None = None


class RecordOut(msgspec.Struct, rename="camel"):
    """An OCDS record: the tender's releases and its compiled release."""

    ocid: str
    releases: list[ReleaseOut]
    compiled_release: ReleaseOut


class PublisherOut(msgspec.Struct):
    name: str
    uri: str


class LinksOut(msgspec.Struct):
    next: str


class ReleasePackageOut(msgspec.Struct, rename="camel", omit_defaults=True):
    """An OCDS 1.1.5 release package; ``links.next`` is the feed's next page (absent on the last)."""

    uri: str
    version: str
    extensions: list[str]
    published_date: Timestamp
    publisher: PublisherOut
    releases: list[ReleaseOut]
    links: LinksOut | None = None


class RecordPackageOut(msgspec.Struct, rename="camel"):
    """An OCDS 1.1.5 record package."""

    uri: str
    version: str
    extensions: list[str]
    published_date: Timestamp
    publisher: PublisherOut
    records: list[RecordOut]
