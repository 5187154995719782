"""Collusion's services (``services.get(Collusion)``), one a use case, built together.

- ``history``: the region's history and its cached detector (``collusion.history``);
- ``runs``: detector runs after an opening and over imports (``collusion.runs``);
- ``importing``: a previous system's tenders into the history (``collusion.importing``);
- ``alerts``: the review workflow (``collusion.alerts``); ``views``: what a reviewer reads;
- ``graphs``: graph views (``collusion.graph_views``); ``findings``: confirmed findings.

Each receives the collaborators it uses; this object only builds them, with what the plugin's
provider hands over (bidding's evidence source, evaluation's committee lookup).
"""

from __future__ import annotations

from bidding.ports import CommitteeLookup
from collusion.alert_views import AlertViews
from collusion.alerts import AlertReview
from collusion.detector import DetectorParams
from collusion.findings import Findings
from collusion.graph_views import GraphViews
from collusion.history import RegionHistory
from collusion.importing import HistoryImport
from collusion.runs import DetectorRuns
from collusion.sources import BidEvidenceSource
from tenderhall.services import Services


class Collusion:
    def __init__(
        self,
        services: Services,
        source: BidEvidenceSource | None = None,
        params: DetectorParams | None = None,
        *,
        committee: CommitteeLookup | None = None,
        alert_on_screens_only: bool = False,
    ) -> None:
        self.params = params or DetectorParams()
        self.history = RegionHistory(self.params)
        self.runs = DetectorRuns(
            self.history,
            services.ledger,
            services.clock,
            services.tenders,
            alert_on_screens_only=alert_on_screens_only,
        )
        if source is not None:
            self.runs.source = source
        self.importing = HistoryImport(self.history, self.runs, services.ledger)
        self.alerts = AlertReview(services.ledger, services.clock)
        self.views = AlertViews(self.alerts)
        self.graphs = GraphViews(self.alerts, self.history)
        # Who sits on a committee is evaluation's answer; without it only staff and supervisors read.
        self.findings = Findings(services.tenders, services.companies, committee)

    @classmethod
    def attach(
        cls,
        services: Services,
        source: BidEvidenceSource | None = None,
        committee: CommitteeLookup | None = None,
    ) -> Collusion:
        svc = cls(services, source, committee=committee)
        services.tenders.add_listener(svc.runs.on_transition)
        return svc


__all__ = ["Collusion"]
