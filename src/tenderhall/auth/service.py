"""Accounts: password login with throttling, browser sessions, API tokens."""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.auth.models import ApiToken, RateLimitEntry, User, UserSession
from tenderhall.auth.policy import Subject
from tenderhall.auth.roles import Role
from tenderhall.auth.throttle import SignInThrottle
from tenderhall.clock import Clock
from tenderhall.db import unit_of_work
from tenderhall.errors import Conflict, InvalidInput, Unauthenticated
from tenderhall.ledger.service import Ledger
from tenderhall.orgs.models import Centre, Company, Organisation, Region

TOKEN_PREFIX = "tht_"  # noqa: S105 - a public marker, not a secret
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")
MIN_PASSWORD = 10


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def subject_of(user: User | None) -> Subject:
    if user is None:
        return Subject.anonymous()
    return Subject(
        role=Role(user.role),
        user_id=user.id,
        region_id=user.region_id,
        centre_id=user.centre_id,
        organisation_id=user.organisation_id,
        company_id=user.company_id,
    )


@dataclass(frozen=True)
class Login:
    user: User
    token: str  # the secret the client keeps; only its hash is stored


class Accounts:
    def __init__(
        self,
        clock: Clock,
        ledger: Ledger,
        throttle: SignInThrottle,
        session_hours: int = 12,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.hasher = hasher or PasswordHasher()
        # Verified when the user does not exist, so timing does not reveal which usernames exist.
        self._dummy_hash = self.hasher.hash("not-a-real-password")
        self.clock = clock
        self.ledger = ledger
        self.throttle = throttle
        self.session_lifetime = timedelta(hours=session_hours)

    async def create_user(
        self,
        db: AsyncSession,
        *,
        username: str,
        password: str,
        role: Role,
        display_name: str,
        email: str | None = None,
        region_id: uuid.UUID | None = None,
        centre_id: uuid.UUID | None = None,
        organisation_id: uuid.UUID | None = None,
        company_id: uuid.UUID | None = None,
        actor: uuid.UUID | None = None,
    ) -> User:
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise InvalidInput("user.username_invalid")
        if len(password) < MIN_PASSWORD:
            raise InvalidInput("user.password_short", minimum=MIN_PASSWORD)
        if role is Role.BIDDER and company_id is None:
            raise InvalidInput("user.bidder_needs_company")
        if role in (Role.TENDERER, Role.AGENT) and organisation_id is None:
            raise InvalidInput("user.org_needs_org")
        if role is Role.STAFF and centre_id is None:
            raise InvalidInput("user.staff_needs_centre")
        exists = await db.scalar(select(User.id).where(User.username == username))
        if exists is not None:
            raise Conflict("user.exists", username=username)
        links: tuple[tuple[str, type[Any], uuid.UUID | None], ...] = (
            ("region", Region, region_id),
            ("centre", Centre, centre_id),
            ("organisation", Organisation, organisation_id),
            ("company", Company, company_id),
        )
        for kind, model, link in links:  # an unknown id is the request's fault, not a failed insert
            if link is not None and await db.get(model, link) is None:
                raise InvalidInput("error.not_found", kind=kind)
        user = User(
            username=username,
            display_name=display_name,
            email=email,
            password_hash=self.hasher.hash(password),
            role=role.value,
            region_id=region_id,
            centre_id=centre_id,
            organisation_id=organisation_id,
            company_id=company_id,
        )
        db.add(user)
        await db.flush()
        await self.ledger.append(
            db,
            "user.created",
            {"user": str(user.id), "role": role.value},
            actor=actor,
            subject=f"user:{user.id}",
        )
        return user

    async def authenticate(
        self, db: AsyncSession, username: str, password: str, source: str | None = None
    ) -> User:
        """Check a password from ``source`` (the client's address), throttled per (account,
        source) and per source but never locked (see auth.throttle).  Unknown usernames take the
        same path: a password hash is verified, a failure is counted, the same answer goes back."""
        await self.throttle.check(db, username, source)
        user = await db.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None or not user.is_active:
            with contextlib.suppress(VerificationError):
                self.hasher.verify(self._dummy_hash, password)
            verified = False
        else:
            try:
                verified = self.hasher.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                verified = False
        if user is None or not verified:
            # No ledger entry: the ledger is public and its size would tell which usernames
            # exist; the throttle's counters are the record.
            # The count must survive the error response: it commits in a transaction of its own.
            async def count(own: AsyncSession) -> None:
                await self.throttle.failed(own, username, source)

            await unit_of_work.refuse(db, count, Unauthenticated("auth.bad_credentials"))
        await self.throttle.succeeded(db, username, source)
        if self.hasher.check_needs_rehash(user.password_hash):
            user.password_hash = self.hasher.hash(password)
        return user

    async def sweep(self, db: AsyncSession) -> None:
        """Drop forgotten throttle counters and expired rate-limit rows (the app's sweeper).
        Rate-limit rows expire by the wall clock, which is what the rate limiter itself uses."""
        await self.throttle.sweep(db)
        await db.execute(delete(RateLimitEntry).where(RateLimitEntry.expires_at <= datetime.now(UTC)))

    async def open_session(
        self, db: AsyncSession, user: User, ip: str | None, user_agent: str | None
    ) -> Login:
        token = secrets.token_urlsafe(32)
        db.add(
            UserSession(
                user_id=user.id,
                token_hash=hash_secret(token),
                expires_at=self.clock.now() + self.session_lifetime,
                ip=ip,
                user_agent=(user_agent or "")[:300],
            )
        )
        # No IP in the public ledger: it is personal data; the session row keeps it for staff.
        await self.ledger.append(
            db, "auth.login", {"user": str(user.id)}, actor=user.id, subject=f"user:{user.id}"
        )
        return Login(user=user, token=token)

    async def close_session(self, db: AsyncSession, token: str) -> None:
        await db.execute(
            update(UserSession)
            .where(UserSession.token_hash == hash_secret(token), UserSession.revoked_at.is_(None))
            .values(revoked_at=self.clock.now())
        )

    async def user_for_session(self, db: AsyncSession, token: str) -> User | None:
        now = self.clock.now()
        row = await db.execute(
            select(User)
            .join(UserSession, UserSession.user_id == User.id)
            .where(
                UserSession.token_hash == hash_secret(token),
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
                User.is_active.is_(True),
            )
        )
        return row.scalar_one_or_none()

    async def create_token(
        self, db: AsyncSession, user: User, name: str, days: int | None
    ) -> tuple[ApiToken, str]:
        if not name.strip() or len(name) > 100:
            raise InvalidInput("token.name_invalid")
        if days is not None and not 1 <= days <= 366:
            raise InvalidInput("token.days_invalid")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(
            user_id=user.id,
            name=name.strip(),
            prefix=secret[:12],
            token_hash=hash_secret(secret),
            expires_at=self.clock.now() + timedelta(days=days) if days else None,
        )
        db.add(token)
        await db.flush()
        await self.ledger.append(
            db,
            "auth.token_created",
            {"user": str(user.id), "token": str(token.id)},
            actor=user.id,
            subject=f"user:{user.id}",
        )
        return token, secret

    async def revoke_token(self, db: AsyncSession, user: User, token_id: uuid.UUID) -> bool:
        result = await db.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=self.clock.now())
        )
        if result.rowcount:  # type: ignore[attr-defined]
            await self.ledger.append(
                db,
                "auth.token_revoked",
                {"user": str(user.id), "token": str(token_id)},
                actor=user.id,
                subject=f"user:{user.id}",
            )
            return True
        return False

    async def user_for_token(self, db: AsyncSession, secret: str) -> User | None:
        if not secret.startswith(TOKEN_PREFIX):
            return None
        now: datetime = self.clock.now()
        row = await db.execute(
            select(User, ApiToken)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(
                ApiToken.token_hash == hash_secret(secret),
                ApiToken.revoked_at.is_(None),
                User.is_active.is_(True),
            )
        )
        found = row.first()
        if found is None:
            return None
        user, token = found
        if token.expires_at is not None and token.expires_at <= now:
            return None
        return user
