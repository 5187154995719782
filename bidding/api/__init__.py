"""Bidding API: thin controllers over `bidding.service.Bidding` (a dependency by type,
``bidding: Bidding``), one module per resource, every answer a type of `bidding.api.schemas`.

Keys and credit lists, the tender's sealing terms, resumable sealed submission, a company's bids
(withdrawal, opened content, its reads) and the live opening hall (server-sent events).
"""

from __future__ import annotations

from bidding.api.bids import BidController
from bidding.api.credit import CreditListController
from bidding.api.hall import HallController
from bidding.api.keys import KeyController
from bidding.api.sealing import SealingController
from bidding.api.uploads import UploadController

ROUTES = [
    KeyController,
    CreditListController,
    SealingController,
    UploadController,
    BidController,
    HallController,
]
