"""Sign-in throttling: slows password guessing down without ever locking an account.

Two counters of failed sign-ins: one per (account, source), so that an attacker's failures never
hold back the account's owner signing in from elsewhere, and one per source, against one address
trying many accounts.  Each allows some failures, then every further one doubles the wait
(exponential back-off, capped).  Counters are keyed by the username as typed, whether the account
exists or not, so an unknown username is throttled exactly like a real one.  Keys are HMACs under a
platform secret: the table holds neither usernames nor addresses.  The rows live in the database,
so every worker (and host) shares them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.auth.models import LoginThrottle
from tenderhall.clock import Clock
from tenderhall.errors import TooManyRequests

BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Limits:
    free_failures: int = 5  # per (account, source) before the back-off starts
    source_free_failures: int = 30  # per source: an office behind one address has many users
    first_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=15)

    @property
    def memory(self) -> timedelta:
        """How long a counter outlives its last failure: longer than the longest wait, so an
        attacker who waits out each delay keeps the counter (and the delay) growing."""
        return max(timedelta(hours=1), 4 * self.max_delay)

    def delay(self, failures: int, free: int) -> timedelta:
        if failures <= free:
            return timedelta(0)
        doublings = min(failures - free - 1, 30)  # 2**30 s is far past any cap
        return min(self.first_delay * (1 << doublings), self.max_delay)


def source_of(address: str | None) -> str:
    """The source a counter is kept for: the client's address, or its /64 for IPv6 (one
    subscriber usually holds a whole /64, so single addresses would cost an attacker nothing)."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class SignInThrottle:
    def __init__(self, clock: Clock, secret: bytes, limits: Limits | None = None) -> None:
        self.clock = clock
        self.secret = secret
        self.limits = limits or Limits()

    def _key(self, *parts: str) -> str:
        return hmac.new(self.secret, "\x00".join(parts).encode(), hashlib.sha256).hexdigest()

    def _keys(self, username: str, address: str | None) -> tuple[str, str]:
        source = source_of(address)
        return self._key("account", username.strip().lower(), source), self._key("source", source)

    async def check(self, db: AsyncSession, username: str, address: str | None) -> None:
        """Refuse, before any password is checked, while either counter asks to wait."""
        now = self.clock.now()
        until = await db.scalar(
            select(LoginThrottle.blocked_until)
            .where(LoginThrottle.key.in_(self._keys(username, address)), LoginThrottle.blocked_until > now)
            .order_by(LoginThrottle.blocked_until.desc())
            .limit(1)
        )
        if until is not None:
            raise TooManyRequests(
                "auth.throttled",
                retry_after=max(1, math.ceil((until - now).total_seconds())),
                until=f"{until.astimezone(BEIJING):%Y-%m-%d %H:%M:%S}",
            )

    async def failed(self, db: AsyncSession, username: str, address: str | None) -> None:
        """Count a failure on both counters (atomically: concurrent failures all count)."""
        pair, source = self._keys(username, address)
        await self._count(db, pair, self.limits.free_failures)
        await self._count(db, source, self.limits.source_free_failures)

    async def succeeded(self, db: AsyncSession, username: str, address: str | None) -> None:
        """The owner got in from this source: forget this pair's failures.  The source's counter
        stays, or an attacker could reset it by signing in to an account of their own."""
        pair, _ = self._keys(username, address)
        await db.execute(delete(LoginThrottle).where(LoginThrottle.key == pair))

    async def sweep(self, db: AsyncSession) -> int:
        result = await db.execute(delete(LoginThrottle).where(LoginThrottle.expires_at <= self.clock.now()))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def _count(self, db: AsyncSession, key: str, free: int) -> None:
        now = self.clock.now()
        forget = now + self.limits.memory
        insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
        stmt = insert(LoginThrottle).values(key=key, failures=1, expires_at=forget)
        failures = await db.scalar(
            stmt.on_conflict_do_update(
                index_elements=[LoginThrottle.key],
                set_={
                    # A counter past its memory starts again (the sweeper may not have run yet).
                    "failures": case((LoginThrottle.expires_at <= now, 1), else_=LoginThrottle.failures + 1),
                    "expires_at": forget,
                },
            ).returning(LoginThrottle.failures)
        )
        delay = self.limits.delay(int(failures or 1), free)
        if delay:
            await db.execute(
                update(LoginThrottle).where(LoginThrottle.key == key).values(blocked_until=now + delay)
            )
