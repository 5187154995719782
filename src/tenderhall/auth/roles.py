"""The roles of DESIGN §1."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    BIDDER = "bidder"
    TENDERER = "tenderer"
    AGENT = "agent"
    STAFF = "staff"
    EXPERT = "expert"
    SUPERVISOR = "supervisor"
    CUSTODIAN = "custodian"
    ADMIN = "admin"
