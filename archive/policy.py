"""The archive package's rows of the policy table (DESIGN §7, §8); the kernel assembles the one table.

Objects: Resource(kind="tender", state=<tender state>, centre/region/organisations of the tender,
published=<had a public notice>) for the archive of that tender and for its open-data record.
"""

from __future__ import annotations

from tenderhall.auth.policy import PUBLIC_TENDER_STATES, Rule, Scope
from tenderhall.auth.roles import Role as R
from tenderhall.tenders.lifecycle import TenderState as T

# A tender's archive exists once the tender has ended, whichever way it ended.
ENDED = frozenset(s.value for s in (T.AWARDED, T.FAILED, T.TERMINATED, T.ARCHIVED))


def rules() -> list[Rule]:
    rows = [
        # The public edition (names of bidders and prices, no personal data) is public once the
        # tender has ended and had a public notice; the full edition is for those who run it.
        Rule(None, "archive.public.view", Scope.PUBLISHED, ENDED),
        Rule(R.STAFF, "archive.status.view", Scope.OWN_CENTRE),
        Rule(R.SUPERVISOR, "archive.status.view", Scope.REGION),
        Rule(R.STAFF, "archive.build", Scope.OWN_CENTRE, ENDED),
        Rule(R.ADMIN, "archive.build", Scope.ANY, ENDED),
        # Open data (OCDS): every published tender, in every state after publication.
        Rule(None, "ocds.view", Scope.PUBLISHED, PUBLIC_TENDER_STATES),
    ]
    for role, scope in (
        (R.STAFF, Scope.OWN_CENTRE),
        (R.SUPERVISOR, Scope.REGION),
        (R.TENDERER, Scope.OWN_ORG),
        (R.AGENT, Scope.OWN_ORG),
    ):
        rows.append(Rule(role, "archive.full.view", scope, ENDED))
    return rows
