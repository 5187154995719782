"""Where collusion's API lives (the old ``/api/collusion`` paths redirect here)."""

from __future__ import annotations

PREFIX = "/api/v1/collusion"
