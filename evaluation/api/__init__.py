"""Evaluation API: thin controllers over `evaluation.service.Evaluation`, one module per resource,
every answer a type of `evaluation.api.schemas`.

Outputs name experts only where the policy grants ``committee.view`` / ``expert.view``; everything
else labels members by seat ("M3").  Emails go out after the transaction commits (background task).
"""

from __future__ import annotations

from evaluation.api.award import AwardController
from evaluation.api.draws import DrawController, SeatController, TenderDrawController
from evaluation.api.experts import ExpertController
from evaluation.api.notifications import NotificationController
from evaluation.api.report import ReportController
from evaluation.api.workspace import WorkspaceController

ROUTES = [
    ExpertController,
    DrawController,
    SeatController,
    NotificationController,
    TenderDrawController,
    WorkspaceController,
    ReportController,
    AwardController,
]
