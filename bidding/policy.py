"""Bidding's rows of the policy table (DESIGN §4); the kernel assembles the one table.

Bid objects are Resource(kind="bid", state=<the tender's state>, company_id=<bidding company>,
centre/region/organisations of the tender, user_id=<the asker's account if it holds an ACTIVE
seat on the tender's evaluation committee, else None> — evaluation answers that question for
bidding through `bidding.ports.COMMITTEE`).  A custodian's share slot of a tender is
Resource(kind="share", user_id=<the custodian named in the tender's remedy>), so SELF means
"a slot that is mine".
"""

from __future__ import annotations

from tenderhall.auth.policy import (
    AFTER_OPENING,
    DRAFT,
    OPEN_FOR_BIDDING,
    PUBLIC_TENDER_STATES,
    Rule,
    Scope,
)
from tenderhall.auth.roles import Role as R
from tenderhall.tenders.lifecycle import TenderState as T

AFTER_DEADLINE = frozenset(
    s.value for s in (T.CLOSED, T.OPENING, T.OPENED, T.EVALUATING, T.RECOMMENDED, T.AWARDED, T.FAILED)
)
HALL_STATES = frozenset({T.CLOSED.value, T.OPENING.value, T.OPENED.value, T.FAILED.value})
IN_HALL = frozenset({T.OPENING.value})
# While its committee evaluates (and reviews objections during publicity): after opening only.
COMMITTEE_READING = frozenset({T.EVALUATING.value, T.RECOMMENDED.value})


def rules() -> list[Rule]:
    rows = [
        Rule(R.BIDDER, "bidder_key.register", Scope.OWN_COMPANY),
        Rule(R.BIDDER, "bidder_key.view", Scope.OWN_COMPANY),
        Rule(R.BIDDER, "bidder_key.revoke", Scope.OWN_COMPANY),
        Rule(R.ADMIN, "bidder_key.revoke", Scope.ANY),
        Rule(R.STAFF, "bidder_key.view", Scope.REGION),
        Rule(R.SUPERVISOR, "bidder_key.view", Scope.REGION),
        Rule(R.CUSTODIAN, "custodian_key.register", Scope.SELF),
        # The remedy (custodians, k) is part of the notice: set while drafting, public afterwards.
        Rule(None, "tender.sealing.view", Scope.ANYONE, PUBLIC_TENDER_STATES),
        Rule(R.BIDDER, "bid.submit", Scope.REGISTERED, OPEN_FOR_BIDDING),
        Rule(R.BIDDER, "bid.view", Scope.OWN_COMPANY),
        Rule(R.BIDDER, "bid.withdraw", Scope.OWN_COMPANY, OPEN_FOR_BIDDING),
        Rule(R.BIDDER, "bid.decrypt", Scope.OWN_COMPANY, IN_HALL),
        Rule(R.BIDDER, "record.respond", Scope.OWN_COMPANY, IN_HALL),
        # Bid content after opening: the bidder itself, and
        Rule(R.BIDDER, "bid.content.view", Scope.OWN_COMPANY, AFTER_OPENING),
        # >>> evaluation committee: the committee of THAT tender (SELF = an active seat on it,
        # see the bid object above), decrypted on the fly, only while it evaluates.  No other
        # expert, no tenderer/agent, no other bidder, no staff: they are answered 404.
        Rule(R.EXPERT, "bid.content.view", Scope.SELF, COMMITTEE_READING),
        Rule(R.TENDERER, "bid.content.view", Scope.SELF, COMMITTEE_READING),  # 招标人代表 seated
        # <<< evaluation committee
        Rule(R.BIDDER, "hall.view", Scope.REGISTERED, HALL_STATES),
        Rule(R.CUSTODIAN, "hall.view", Scope.SELF, HALL_STATES),
        Rule(R.CUSTODIAN, "share.release", Scope.SELF, IN_HALL),
        Rule(R.SUPERVISOR, "hall.view", Scope.REGION, HALL_STATES),
        Rule(R.SUPERVISOR, "bid.list", Scope.REGION, AFTER_DEADLINE),
        Rule(R.STAFF, "hall.view", Scope.OWN_CENTRE, HALL_STATES),
        Rule(R.STAFF, "hall.run", Scope.OWN_CENTRE, IN_HALL),
        Rule(R.STAFF, "bid.list", Scope.OWN_CENTRE, AFTER_DEADLINE),
        # The access log of bid content (who read which decrypted bid, when): oversight only.
        Rule(R.STAFF, "bid.reads.view", Scope.OWN_CENTRE, AFTER_OPENING),
        Rule(R.SUPERVISOR, "bid.reads.view", Scope.REGION, AFTER_OPENING),
        # The credit blacklist spans the region.
        Rule(R.ADMIN, "credit.import", Scope.ANY),
        Rule(R.STAFF, "credit.import", Scope.REGION),
        Rule(R.ADMIN, "credit.view", Scope.ANY),
        Rule(R.STAFF, "credit.view", Scope.REGION),
        Rule(R.SUPERVISOR, "credit.view", Scope.REGION),
    ]
    for role, scope in ((R.TENDERER, Scope.OWN_ORG), (R.AGENT, Scope.OWN_ORG), (R.STAFF, Scope.OWN_CENTRE)):
        rows += [
            Rule(role, "tender.remedy.edit", scope, DRAFT),
            Rule(role, "tender.sealing.view", scope),
        ]
    for role in (R.TENDERER, R.AGENT):
        rows.append(Rule(role, "hall.view", Scope.OWN_ORG, HALL_STATES))
    return rows
