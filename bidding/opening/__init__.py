"""The remote opening hall (不见面开标), by phase: the clock's steps and access (``timeline``),
bidders decrypting (``decryption``), the custodian fallback (``custodians``), the opening record,
its signatures and objections (``record``), reading the hall and the opened bids (``reading``).
Stored envelopes are read by ``blobs``; secrets kept at the opening are wrapped by ``vault``.
Pure rules live in ``bidding.hall``; viewers are told of committed changes through
``bidding.live``.

``Opening`` composes the phases and offers their actions under one name (a bidding service's
``hall``); each phase receives only the collaborators it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bidding import queries
from bidding.access import BidAccess
from bidding.live import HallLive
from bidding.opening.blobs import POOL_MIN_BYTES, Blobs, Opened
from bidding.opening.custodians import Custodians
from bidding.opening.decryption import Decryption
from bidding.opening.reading import HallReading
from bidding.opening.record import OpeningRecord
from bidding.opening.timeline import Timeline
from bidding.opening.vault import DOCUMENT_FACTS, Vault

if TYPE_CHECKING:
    from tenderhall.services import Services

__all__ = ["DOCUMENT_FACTS", "POOL_MIN_BYTES", "Opened", "Opening"]


class Opening:
    def __init__(
        self,
        timeline: Timeline,
        decryption: Decryption,
        custodians: Custodians,
        record: OpeningRecord,
        reading: HallReading,
    ) -> None:
        self.timeline = timeline
        self.decryption = decryption
        self.custodians = custodians
        self.record = record
        self.reading = reading
        self.live = timeline.live
        self.blobs = decryption.blobs
        self.vault = decryption.vault
        # The actions, under the names the API, the pages and the other domains use.
        self.load = timeline.load
        self.advance = timeline.advance
        self.get_hall = queries.hall_of
        self.participants = queries.participants
        self.send_file_key = decryption.send_file_key
        self.share_requests = custodians.share_requests
        self.release_share = custodians.release_share
        self.set_cause = record.set_cause
        self.publish_record = record.publish_record
        self.respond = record.respond
        self.answer = record.answer
        self.finish = record.finish
        self.abilities = reading.abilities
        self.snapshot = reading.snapshot
        self.documents = self.vault.documents
        self.reads = reading.reads
        self.content = reading.content
        self.wrap = self.vault.wrap
        self.unwrap = self.vault.unwrap

    @classmethod
    def build(cls, services: Services, access: BidAccess) -> Opening:
        clock, ledger, tenders, storage = services.clock, services.ledger, services.tenders, services.storage
        settings = services.settings
        live = HallLive(settings.extra.get("channel_namespace") or settings.ledger_origin)
        vault = Vault(services.keys.data_key)
        blobs = Blobs(storage)
        timeline = Timeline(clock, ledger, tenders, live)
        decryption = Decryption(clock, ledger, tenders, access, timeline, blobs, vault, live)
        return cls(
            timeline,
            decryption,
            Custodians(clock, ledger, timeline, blobs, decryption, vault, live),
            OpeningRecord(clock, ledger, timeline, access, live),
            HallReading(clock, ledger, tenders, storage, timeline, access, vault),
        )
