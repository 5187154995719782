"""Credit checks: importing a blacklist version, and checking a bidder against the newest one
(each check is stored as evidence).  The list format is ``bidding.credit``'s."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from typing import NoReturn

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.credit import EMPTY_VERSION, CreditListError, parse_list
from bidding.models import CreditCheck, CreditList, CreditListEntry
from tenderhall.auth.policy import Resource, Subject, enforce
from tenderhall.clock import Clock
from tenderhall.db import unit_of_work
from tenderhall.errors import Conflict, InvalidInput
from tenderhall.ledger.service import Ledger
from tenderhall.orgs.models import Centre, Company
from tenderhall.tenders.models import Tender


@dataclasses.dataclass(eq=False)
class CreditChecks:
    clock: Clock
    ledger: Ledger

    async def import_credit_list(
        self,
        db: AsyncSession,
        who: Subject,
        content: bytes,
        fmt: str,
        source: str,
        published_on: date,
    ) -> CreditList:
        enforce(who, "credit.import", Resource(kind="credit_list", region_id=who.region_id))
        try:
            parsed = parse_list(content, fmt, source, published_on)
        except CreditListError as exc:
            raise InvalidInput("credit.list_invalid", detail=str(exc)) from None
        assert who.user_id is not None
        row = CreditList(
            region_id=who.region_id,
            source=parsed.source,
            published_on=parsed.published_on,
            version_hash=parsed.version,
            entry_count=len(parsed.entries),
            imported_by=who.user_id,
            imported_at=self.clock.now(),
        )
        db.add(row)
        await db.flush()
        db.add_all(
            CreditListEntry(
                list_id=row.id,
                uscc=e.uscc,
                name=e.name,
                reason=e.reason,
                listed_on=e.listed_on,
                until=e.until,
            )
            for e in parsed.entries
        )
        await db.flush()
        await self.ledger.append(
            db,
            "credit.list_imported",
            {
                "version": row.version_hash,
                "source": row.source,
                "published_on": row.published_on.isoformat(),
                "entries": row.entry_count,
            },
            actor=who.user_id,
        )
        return row

    async def credit_check(
        self, db: AsyncSession, tender: Tender, company: Company, bid_id: uuid.UUID | None = None
    ) -> CreditCheck:
        """Check against the newest list of the tender's region; the check is stored as evidence."""
        centre = await db.get(Centre, tender.centre_id)
        region = centre.region_id if centre else None
        current = await db.scalar(
            select(CreditList)
            .where((CreditList.region_id == region) | (CreditList.region_id.is_(None)))
            .order_by(CreditList.imported_at.desc(), CreditList.id.desc())
            .limit(1)
        )
        now = self.clock.now()
        reason = None
        if current is not None:
            today = now.date()
            rows = await db.execute(
                select(CreditListEntry).where(
                    CreditListEntry.list_id == current.id, CreditListEntry.uscc == company.uscc
                )
            )
            active = [
                e for e in rows.scalars() if e.listed_on <= today and (e.until is None or today <= e.until)
            ]
            if active:
                reason = "; ".join(e.reason for e in active)
        check = CreditCheck(
            tender_id=tender.id,
            company_id=company.id,
            bid_id=bid_id,
            list_version_hash=current.version_hash if current else EMPTY_VERSION,
            listed=reason is not None,
            reason=reason,
            checked_at=now,
        )
        db.add(check)
        await db.flush()
        return check

    @staticmethod
    async def refuse_listed(db: AsyncSession, check: CreditCheck) -> NoReturn:
        """Refuse a listed bidder: the action is undone, the check stays on the record (in a
        transaction of its own) as the refusal's evidence."""
        kept = {attr.key: getattr(check, attr.key) for attr in sa_inspect(CreditCheck).column_attrs}

        async def record(own: AsyncSession) -> None:
            own.add(CreditCheck(**kept))

        await unit_of_work.refuse(db, record, Conflict("bid.credit_listed", reason=check.reason or ""))
