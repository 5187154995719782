"""What bidding handlers need besides their body and the bidding service (a dependency by type,
``bidding: Bidding``): where a request came from, as a bid's evidence of submission."""

from __future__ import annotations

from typing import Any

from litestar import Request

from bidding.submission import Evidence


def evidence_of(request: Request[Any, Any, Any]) -> Evidence:
    return Evidence(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
        device=request.headers.get("x-device-fingerprint"),
    )
