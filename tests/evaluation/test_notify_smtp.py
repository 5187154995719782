"""Drawn experts are notified in the app and by email, through a real SMTP server process (aiosmtpd).

The mail server is down at first: the draw still completes, the emails wait in the outbox, and
they go out once the server is up.
"""

from __future__ import annotations

import mailbox
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from evaluation.models import Notification
from evaluation.notify import SmtpSettings
from evaluation.service import Evaluation


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_port() -> int:
    return free_port()


def start_server(port: int, maildir: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(maildir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("aiosmtpd did not start")


@pytest.fixture
def maildir(tmp_path: Path) -> Iterator[Path]:
    return tmp_path / "mail"


def messages(path: Path) -> list[tuple[str, str, str]]:
    box = mailbox.Maildir(path, create=False)
    return [
        (m["To"], str(make_header(decode_header(m["Subject"]))), m.get_payload(decode=True).decode())  # type: ignore[union-attr]
        for m in box
    ]


async def test_drawn_experts_get_email(
    client: Any, world: Any, pool: Any, tender: Any, clock: Any, services: Any, smtp_port: int, maildir: Path
) -> None:
    evaluation = services.get(Evaluation)
    evaluation.notifier.smtp = SmtpSettings(
        host="127.0.0.1", port=smtp_port, sender="noreply@zb.example.gov.cn", timeout=2.0
    )
    base = f"/api/v1/tenders/{tender.id}/evaluation"
    draw_at = clock.now() + timedelta(days=1)
    r = await client.post(
        f"{base}/draws",
        headers=world.auth("staff"),
        json={
            "seats": {"A01": 5},
            "committee_size": 5,
            "evaluation_date": tender.deadline.date().isoformat(),
            "draw_at": draw_at.isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "committed", r.text
    clock.set(draw_at)
    r = await client.post(
        f"/api/v1/draws/{r.json()['id']}/reveal",
        headers=world.auth("supervisor"),
        json={"value": secrets.token_hex(32)},
    )
    assert r.status_code == 201, r.text  # the mail server is down: the draw does not care

    async with services.sessionmaker() as db:
        rows = list(await db.scalars(select(Notification).where(Notification.kind == "drawn")))
    assert len(rows) == 5
    assert all(n.email_status == "pending" and n.email_attempts == 1 for n in rows)
    assert all(n.email_error for n in rows)

    server = start_server(smtp_port, maildir)
    try:
        assert await evaluation.notifier.deliver_pending(services.sessionmaker) == 5
        got = messages(maildir)
        committee = (await client.get(f"{base}/committee", headers=world.auth("staff"))).json()
        emails = {e.email for e in pool.experts if str(e.id) in {s["expert_id"] for s in committee}}
        assert {to for to, _, _ in got} == emails
        assert all(tender.reference in subject and "评标专家抽取通知" in subject for _, subject, _ in got)
        assert all("回避声明" in body for _, _, body in got)

        # A decline calls the next reserve, who is emailed after the transaction commits.
        seat = committee[0]
        r = await client.post(
            f"/api/v1/seats/{seat['id']}/respond",
            headers=pool.auth(seat["expert_id"]),
            json={"accept": False, "reason": "出差"},
        )
        assert r.status_code == 201, r.text
        got = messages(maildir)
        assert len(got) == 6
        newcomer = [
            s
            for s in (await client.get(f"{base}/committee", headers=world.auth("staff"))).json()
            if s["status"] == "notified" and s["expert_id"] not in {c["expert_id"] for c in committee}
        ]
        assert len(newcomer) == 1
        new_email = next(e.email for e in pool.experts if str(e.id) == newcomer[0]["expert_id"])
        assert got[-1][0] == new_email or new_email in {to for to, _, _ in got}
        # In the app as well, in the reader's language.
        notes = (
            await client.get(
                "/api/v1/notifications/",
                headers={**pool.auth(newcomer[0]["expert_id"]), "Accept-Language": "en"},
            )
        ).json()
        assert notes[0]["subject"] == f"Expert draw: {tender.reference}"
    finally:
        server.terminate()
        server.wait(timeout=10)


async def rows(services: Any) -> dict[str, Notification]:
    async with services.sessionmaker() as db:
        return {n.email_to: n for n in await db.scalars(select(Notification)) if n.email_to}


async def test_sweeper_retries_with_backoff_then_gives_up(
    world: Any, services: Any, clock: Any, smtp_port: int, maildir: Path
) -> None:
    from evaluation.notify import MAX_ATTEMPTS, retry_delay
    from evaluation.plugin import sweep

    notifier = services.get(Evaluation).notifier
    notifier.smtp = SmtpSettings(
        host="127.0.0.1", port=smtp_port, sender="noreply@zb.example.gov.cn", timeout=2.0
    )
    params = {
        "reference": "SH-2026-0001",
        "title": "门诊楼改造工程",
        "seat": "x",
        "respond_by": "2026-03-03 10:00",
    }
    async with services.transaction() as db:
        for to in ("a@example.org", "b@example.org"):
            await notifier.notify(db, world.users["staff"].id, "drawn", params, email=to)
    # Right after the request: the server is down, both wait a minute for their retry.
    assert await notifier.deliver_pending(services.sessionmaker) == 0
    first = await rows(services)
    assert {(n.email_status, n.email_attempts) for n in first.values()} == {("pending", 1)}
    assert all(n.email_next_at == clock.now() + retry_delay(1) for n in first.values())

    server = start_server(smtp_port, maildir)
    try:
        await sweep(services)  # up now, but the retry is not due: nothing is tried
        assert {n.email_attempts for n in (await rows(services)).values()} == {1}
        assert messages(maildir) == []
        clock.advance(retry_delay(1))
        await sweep(services)
        assert sorted(to for to, _, _ in messages(maildir)) == ["a@example.org", "b@example.org"]
        assert {n.email_status for n in (await rows(services)).values()} == {"sent"}
        await sweep(services)  # sent once, never again
        assert len(messages(maildir)) == 2
    finally:
        server.terminate()
        server.wait(timeout=10)

    # Down for good: the retries back off (1, 2, 4, 8 minutes) and the email is given up.
    async with services.transaction() as db:
        await notifier.notify(db, world.users["staff"].id, "drawn", params, email="c@example.org")
    assert await notifier.deliver_pending(services.sessionmaker) == 0
    for attempt in range(1, MAX_ATTEMPTS):
        clock.advance(retry_delay(attempt) - timedelta(seconds=1))
        await sweep(services)
        assert (await rows(services))["c@example.org"].email_attempts == attempt  # not yet due
        clock.advance(timedelta(seconds=1))
        await sweep(services)
        assert (await rows(services))["c@example.org"].email_attempts == attempt + 1
    gone = (await rows(services))["c@example.org"]
    assert (gone.email_status, gone.email_attempts, gone.email_next_at) == ("failed", MAX_ATTEMPTS, None)
    clock.advance(timedelta(days=1))
    await sweep(services)
    assert (await rows(services))["c@example.org"].email_attempts == MAX_ATTEMPTS
