"""Bidding as the rest of the platform reaches it: one facade over the use-case services.

Each use case lives in its own module and receives only the collaborators it uses:
``keys`` (bidder and custodian keys), ``sealing`` (the tender's remedy and sealing facts),
``credit`` (credit lists and checks), ``submission`` (uploads, acceptance, withdrawal),
``deadline`` (the deadline checkpoint), ``sweep`` (expired uploads), ``hall`` (the opening,
``bidding.opening``) and ``opened`` (evaluation's view of the opened bids).  Shared reads are
plain functions in ``bidding.queries``; the policy's view of a bid is ``bidding.access``.
The facade's methods are the sub-services' own (bound here), so callers may use either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bidding import queries, uploads
from bidding.access import BidAccess
from bidding.credit_checks import CreditChecks
from bidding.deadline import DeadlineCheckpoints
from bidding.keys import Keys
from bidding.opened import OpenedBids
from bidding.opening import Opening
from bidding.ports import CommitteeLookup
from bidding.sealing import MAX_ENVELOPE, Sealing, bond_cap
from bidding.submission import BondIn, Evidence, Submission, file_chunks
from bidding.sweeps import UploadSweep

if TYPE_CHECKING:
    from tenderhall.services import Services

__all__ = ["MAX_ENVELOPE", "Bidding", "BondIn", "CommitteeLookup", "Evidence", "file_chunks"]


class Bidding:
    def __init__(self, services: Services, committee: CommitteeLookup | None = None) -> None:
        settings = services.settings
        clock, ledger, tenders = services.clock, services.ledger, services.tenders
        self.partials = uploads.PartialUploads(settings.storage_dir / ".partial")
        # Who sits on a tender's committee is evaluation's answer (``bidding.ports.COMMITTEE``);
        # without it no expert ever reads a bid.
        self.access = BidAccess(tenders, committee)
        self.bidder_keys = Keys(clock, ledger)
        self.sealing_terms = Sealing(ledger, tenders)
        self.credit = CreditChecks(clock, ledger)
        self.submission = Submission(
            clock,
            ledger,
            tenders,
            services.storage,
            self.partials,
            self.access,
            self.credit,
            max_open_uploads=settings.upload_max_open,
            max_upload_bytes=settings.upload_max_bytes,
            cosigning=services.cosigning,
        )
        self.deadline = DeadlineCheckpoints(clock, ledger)
        self.sweep = UploadSweep(clock, self.partials, services.transaction)
        self.hall = Opening.build(services, self.access)
        self.opened = OpenedBids()  # evaluation's OpenedBidSource (see bidding.opened)

        # The use cases, under the names callers have always used.
        self.bid_resource = self.access.bid_resource
        self.own_bid = self.access.own_bid
        self.remedy = queries.remedy
        self.active_key = queries.active_key
        self.register_key = self.bidder_keys.register_key
        self.keys = self.bidder_keys.keys
        self.revoke_key = self.bidder_keys.revoke_key
        self.register_custodian_key = self.bidder_keys.register_custodian_key
        self.set_remedy = self.sealing_terms.set_remedy
        self.sealing = self.sealing_terms.sealing
        self.bond_cap = bond_cap
        self.import_credit_list = self.credit.import_credit_list
        self.credit_check = self.credit.credit_check
        self.start_upload = self.submission.start_upload
        self.upload = self.submission.upload
        self.offset = self.submission.offset
        self.append = self.submission.append
        self.complete = self.submission.complete
        self.accept = self.submission.accept
        self.withdraw = self.submission.withdraw
        self.my_bids = self.submission.my_bids
        self.deadline_checkpoint = self.deadline.deadline_checkpoint
        self.on_transition = self.deadline.on_transition
        self.expired_uploads = self.sweep.expired_uploads
        self.sweep_uploads = self.sweep.sweep_uploads

    @classmethod
    def attach(cls, services: Services, committee: CommitteeLookup | None = None) -> Bidding:
        bidding = cls(services, committee)
        services.tenders.add_listener(bidding.deadline.on_transition)
        return bidding
