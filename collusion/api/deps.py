"""How handlers reach collusion's services."""

from __future__ import annotations

PREFIX = "/api/v1/collusion"
