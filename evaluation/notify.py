"""Notifications: in-app rows written in the caller's transaction, emails sent after commit.

The notification row doubles as the email outbox, so a mail server that is down delays emails
without losing them or rolling back the draw that caused them.  Each request that notifies sends
right after its commit; the app's sweeper retries what failed, backing off exponentially
(``retry_delay``) until ``MAX_ATTEMPTS``, after which the email is marked failed (the in-app
notification stays).  Text comes from the catalogues
(``notify.<kind>.subject`` / ``.body``) in the recipient's locale.
"""

from __future__ import annotations

import asyncio
import os
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from evaluation.models import Notification
from tenderhall.auth.models import User
from tenderhall.auth.policy import Resource, Subject, enforce
from tenderhall.clock import Clock
from tenderhall.i18n import translate

MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)


def retry_delay(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failure: 1, 2, 4, 8 … minutes, at most an hour."""
    delay: timedelta = FIRST_RETRY * (1 << max(attempts - 1, 0))
    return min(delay, LONGEST_RETRY)


@dataclass(frozen=True)
class SmtpSettings:
    """From ``TENDERHALL_SMTP_*`` (see README); no host means email is off (in-app only)."""

    host: str = ""
    port: int = 25
    sender: str = "tenderhall@localhost"
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_env(cls) -> SmtpSettings:
        env = os.environ.get
        try:
            port = int(env("TENDERHALL_SMTP_PORT", "25"))
        except ValueError:
            raise ValueError("TENDERHALL_SMTP_PORT must be a whole number") from None
        return cls(
            host=env("TENDERHALL_SMTP_HOST", ""),
            port=port,
            sender=env("TENDERHALL_SMTP_FROM", "tenderhall@localhost"),
            username=env("TENDERHALL_SMTP_USER", ""),
            password=env("TENDERHALL_SMTP_PASSWORD", ""),
            starttls=env("TENDERHALL_SMTP_STARTTLS", "0") in ("1", "true", "yes"),
        )

    @property
    def enabled(self) -> bool:
        return bool(self.host)


def render(kind: str, locale: str, params: dict[str, Any]) -> tuple[str, str]:
    return (
        translate(f"notify.{kind}.subject", locale, **params),
        translate(f"notify.{kind}.body", locale, **params),
    )


class Notifier:
    def __init__(self, smtp: SmtpSettings, clock: Clock) -> None:
        self.smtp = smtp
        self.clock = clock

    async def inbox(self, db: AsyncSession, who: Subject) -> list[Notification]:
        """The caller's own notifications, newest first."""
        enforce(who, "notification.view", Resource(kind="notification", user_id=who.user_id))
        return list(
            await db.scalars(
                select(Notification)
                .where(Notification.user_id == who.user_id)
                .order_by(Notification.created_at.desc())
            )
        )

    async def notify(
        self, db: AsyncSession, user_id: Any, kind: str, params: dict[str, Any], email: str | None = None
    ) -> Notification:
        user = await db.get(User, user_id) if user_id else None
        address = email or (user.email if user else None)
        row = Notification(
            user_id=user_id,
            kind=kind,
            params=params,
            locale=user.locale if user else "zh_CN",
            email_to=address,
            email_status="pending" if address and self.smtp.enabled else "none",
        )
        db.add(row)
        await db.flush()
        return row

    def _send(self, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"] = self.smtp.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg.set_content(body)
        with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=self.smtp.timeout) as smtp:
            if self.smtp.starttls:
                smtp.starttls()
            if self.smtp.username:
                smtp.login(self.smtp.username, self.smtp.password)
            smtp.send_message(msg)

    async def deliver_pending(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, due_only: bool = False
    ) -> int:
        """Send pending emails; each outcome commits on its own.  Returns how many were sent.

        After a request every pending email is tried at once; the sweeper passes ``due_only`` so
        that a failed email waits for its retry time.
        """
        if not self.smtp.enabled:
            return 0
        sent = 0
        due = Notification.email_status == "pending"
        if due_only:
            now = self.clock.now()
            due = due & (Notification.email_next_at.is_(None) | (Notification.email_next_at <= now))
        async with sessionmaker() as db:
            ids = list(await db.scalars(select(Notification.id).where(due).order_by(Notification.created_at)))
        for nid in ids:
            async with sessionmaker() as db, db.begin():
                row = await db.get(Notification, nid, with_for_update=True)
                if row is None or row.email_status != "pending" or not row.email_to:
                    continue
                subject, body = render(row.kind, row.locale, row.params)
                row.email_attempts += 1
                try:
                    await asyncio.to_thread(self._send, row.email_to, subject, body)
                except (OSError, smtplib.SMTPException) as exc:
                    row.email_error = str(exc)[:500]
                    if row.email_attempts >= MAX_ATTEMPTS:
                        row.email_status = "failed"
                        row.email_next_at = None
                    else:
                        row.email_next_at = self.clock.now() + retry_delay(row.email_attempts)
                    continue
                row.email_status = "sent"
                row.email_error = None
                row.email_next_at = None
                sent += 1
        return sent
