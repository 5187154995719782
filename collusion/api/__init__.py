"""Collusion API (``/api/v1/collusion``): alerts and their review, graph views, runs, findings."""

from __future__ import annotations

from collusion.api.alerts import AlertController
from collusion.api.redirects import old_collusion_path
from collusion.api.regions import RegionController
from collusion.api.review import AlertReviewController

ROUTES = [AlertController, AlertReviewController, RegionController, old_collusion_path]
__all__ = ["ROUTES"]
