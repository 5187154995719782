"""The hall, live: "tender X's hall changed" fanned out to its viewers (server-sent events).

Notifications go through Litestar's channels plugin, which the composition root builds (Redis
when ``TENDERHALL_REDIS_URL`` is set, else PostgreSQL's LISTEN/NOTIFY on a PostgreSQL database, so
that every worker sees every event; in-process on SQLite) and hands over through
``bidding.plugin.use_channels``.  They are published only after the
transaction that made the change commits, and carry no content: a viewer re-reads the hall, so a
lost or duplicated notification costs nothing.  Changes that happen by the clock alone (the
countdown reaching the opening time, the window ending) have no event to announce them: a viewer
wakes up when the next such moment is due, and on a slow tick in any case (see the SSE handler).

Channel names carry a namespace (hashed), by default the ledger origin, which names the deployment,
so two deployments sharing one Redis or database server never see each other's halls
(``settings.extra["channel_namespace"]`` overrides it, e.g. one per test).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from litestar.channels import ChannelsPlugin
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.db import unit_of_work

__all__ = ["HallLive", "seconds_to_next_step"]


class HallLive:
    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self._ns = hashlib.sha256(namespace.encode()).hexdigest()[:12]
        self.channels: ChannelsPlugin | None = None  # none outside the web app (CLI, benchmarks)

    def channel(self, tender_id: uuid.UUID) -> str:
        # Short and plain: PostgreSQL channel names are identifiers of at most 63 bytes.
        return f"th{self._ns}_hall_{tender_id.hex}"

    def announce(self, db: AsyncSession, tender_id: uuid.UUID, kind: str) -> None:
        """Publish ``kind`` once ``db``'s unit of work commits (never if it rolls back): viewers
        must only see committed changes."""
        unit_of_work.after_commit(db, lambda: self.publish(tender_id, kind), key=(id(self), tender_id, kind))

    def publish(self, tender_id: uuid.UUID, kind: str) -> None:
        if self.channels is None:
            return
        # RuntimeError: the plugin is not running (app not started, or shut down); viewers still
        # catch up on their next tick.
        with contextlib.suppress(RuntimeError):
            self.channels.publish(kind, self.channel(tender_id))

    @contextlib.asynccontextmanager
    async def subscribe(self, tender_id: uuid.UUID) -> AsyncIterator[asyncio.Event]:
        """An event set whenever the hall changes (the caller clears it before re-reading)."""
        changed = asyncio.Event()
        if self.channels is None:
            yield changed
            return

        async def on_event(_data: bytes) -> None:
            changed.set()

        async with (
            self.channels.start_subscription(self.channel(tender_id)) as subscriber,
            subscriber.run_in_background(on_event, join=False),
        ):
            yield changed


def seconds_to_next_step(snapshot: dict[str, Any]) -> float | None:
    """Seconds until the next change that happens by the clock alone (opening time, end of the
    window, signing deadline), read from a hall snapshot; None if none is ahead."""
    ahead = [snapshot.get("seconds_to_opening"), snapshot.get("seconds_left_in_window")]
    if snapshot.get("sign_deadline") and snapshot.get("now"):
        deadline = datetime.fromisoformat(snapshot["sign_deadline"])
        ahead.append((deadline - datetime.fromisoformat(snapshot["now"])).total_seconds())
    future = [float(s) for s in ahead if s is not None and s > 0]
    return min(future) if future else None
