"""Policy resources for collusion objects (the rows live in the policy table's collusion block)."""

from __future__ import annotations

import uuid

from collusion.models import Alert
from tenderhall.auth.policy import Resource


def alert_resource(alert: Alert) -> Resource:
    return Resource(
        kind="collusion_alert", state=alert.status, region_id=alert.region_id, centre_id=alert.centre_id
    )


def graph_resource(region_id: uuid.UUID | None) -> Resource:
    return Resource(kind="collusion_graph", region_id=region_id)


def finding_resource(tender: Resource, committee_user: uuid.UUID | None) -> Resource:
    """Findings of one tender; ``committee_user`` is the asker's account if it sits on the committee."""
    return Resource(
        kind="collusion_finding",
        state=tender.state,
        region_id=tender.region_id,
        centre_id=tender.centre_id,
        organisation_ids=tender.organisation_ids,
        user_id=committee_user,
    )
