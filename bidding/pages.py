"""The opening hall as a browser page: the snapshot the API serves, rendered and kept live by
``static/hall.js`` over the hall's server-sent events.  Read-only: bidders decrypt with their own
client (``tenderhall bid decrypt``), which never sends a private key anywhere."""

from __future__ import annotations

import json
import uuid
from typing import Any

from litestar import Request, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.models import BidState
from bidding.service import Bidding
from tenderhall.auth.policy import Subject
from tenderhall.i18n import translate
from tenderhall.web.pages import page_context

# Every label the script shows, looked up in the catalogues here (the script holds no text).
LABELS = (
    "hall.page.phase",
    "hall.page.opening_in",
    "hall.page.window_left",
    "hall.page.bids",
    "hall.page.bid",
    "hall.page.company",
    "hall.page.status",
    "hall.page.via",
    "hall.page.record",
    "hall.page.price",
    "hall.page.duration",
    "hall.page.quality",
    "hall.page.project_manager",
    "hall.page.valid",
    "hall.page.valid_bids",
    "hall.page.ceiling",
    "hall.page.remark",
    "hall.page.above_ceiling",
    "hall.page.responses",
    "hall.page.answer",
    "hall.page.paused",
    "hall.page.sign_deadline",
    "hall.page.live",
    "hall.page.reconnecting",
    "hall.page.none",
    "hall.page.yes",
    "hall.page.no",
    "hall.page.remedy",
    "hall.page.outcome.opened",
    "hall.page.outcome.failed",
    "hall.phase.waiting",
    "hall.phase.decrypting",
    "hall.phase.custodians",
    "hall.phase.ready",
    "hall.phase.signing",
    "hall.phase.closed",
    "hall.status.sealed",
    *(f"hall.status.{s.value}" for s in BidState if s is not BidState.SUBMITTED),
    "hall.via.bidder",
    "hall.via.custodians",
    "hall.response.signed",
    "hall.response.objection",
    "hall.response.silent",
    "hall.action.publish",
    "hall.action.finish",
    "hall.action.answer",
    "hall.action.object",
    "hall.action.cause",
    "hall.action.cause_bidder",
    "hall.action.cause_other",
    "hall.action.done",
    "hall.page.objection_placeholder",
    "hall.page.answer_placeholder",
    "hall.page.sign_hint",
)


def _attribute_json(value: Any) -> str:
    """JSON for a data attribute of the page (the template escapes it as any attribute value):
    the Content-Security-Policy allows no inline script, not even a JSON one."""
    return json.dumps(value, ensure_ascii=False)


@get("/tenders/{tender_id:uuid}/hall", include_in_schema=False)
async def hall_page(
    request: Request[Any, Any, Any],
    tender_id: uuid.UUID,
    who: Subject,
    bidding: Bidding,
    db_session: AsyncSession,
) -> Template:
    opening = bidding.hall
    snapshot = await opening.snapshot(db_session, who, tender_id)  # 404/403 as the API answers
    abilities = await opening.abilities(db_session, who, tender_id)
    locale = page_context(request)["locale"]
    labels = {key: translate(key, locale) for key in LABELS}
    return Template(
        "hall.html.jinja",
        context=page_context(
            request,
            snapshot=snapshot,
            snapshot_json=_attribute_json(snapshot),
            abilities=abilities,
            labels_json=_attribute_json(labels),
        ),
    )


PAGES = [hall_page]
