"""How handlers reach collusion's services."""

from __future__ import annotations

from collusion.service import Collusion
from tenderhall.services import Services

PREFIX = "/api/v1/collusion"


def svc(services: Services) -> Collusion:
    return services.domain["collusion"]  # type: ignore[no-any-return]
