"""``tenderhall archive build|status``: build a tender's archive now, or see its versions' status;
added to the group of ``archive.cli`` (verify, import-signer), which this module extends.

Errors end as one line from the catalogue (Simplified Chinese by default, ``--lang en``)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import click

from archive.cli import archive

_lang = click.option("--lang", type=click.Choice(["zh_CN", "en"]), default="zh_CN", show_default=True)
MAX_TENDER_ARG = 100


async def _tender(db: Any, value: str) -> Any:
    """The tender named by its uuid or its reference number, or None."""
    from sqlalchemy import select

    from tenderhall.tenders.models import Tender

    try:
        return await db.get(Tender, uuid.UUID(value))
    except ValueError:
        return await db.scalar(select(Tender).where(Tender.reference == value))


def _line(key: str, lang: str, **params: Any) -> str:
    from tenderhall.i18n import translate

    return translate(key, lang, **params)


@archive.command("build")
@click.argument("tender")
@_lang
def build(tender: str, lang: str) -> None:
    """Build TENDER's archive now (reference number or uuid): its pending or failed version, or
    the first one of a tender that ended before archives were built."""
    from archive.jobs import Archives
    from archive.models import ArchiveStatus
    from tenderhall.cli import _settings
    from tenderhall.compose import build_services
    from tenderhall.tenders.lifecycle import TRANSITIONS

    if not tender.strip() or len(tender) > MAX_TENDER_ARG:
        raise click.ClickException(_line("archive.cli.no_tender", lang, tender=tender[:MAX_TENDER_ARG]))
    ended = TRANSITIONS["archive"][0] | {TRANSITIONS["archive"][1]}

    async def go() -> tuple[str, Any]:
        services = build_services(_settings())
        archives = services.get(Archives)
        try:
            async with services.transaction() as db:
                found = await _tender(db, tender.strip())
                if found is None:
                    return "archive.cli.no_tender", {"tender": tender}
                if found.state not in ended:
                    return "archive.cli.not_ended", {"tender": found.reference, "state": found.state}
                versions = await archives.versions(db, found.id)
                latest = versions[0] if versions else None
                if latest is not None and latest.status == ArchiveStatus.BUILT:
                    return "archive.cli.already_built", {"version": latest.version, "sha256": latest.sha256}
                if latest is None:
                    latest = await archives.start(db, found.id, reason="operator")
                await archives.retry(db, latest)
                version_id = latest.id
            try:
                await archives.run(str(version_id))
            except Exception as exc:
                from archive.jobs import describe

                return "archive.cli.failed", {"error": describe(exc)}
            async with services.transaction() as db:
                done = (await archives.versions(db, found.id))[0]
            return "archive.cli.built", {"version": done.version, "sha256": done.sha256}
        finally:
            await services.jobs.close()
            await services.engine.dispose()

    key, params = asyncio.run(go())
    if key in ("archive.cli.built", "archive.cli.already_built"):
        click.echo(_line(key, lang, **params))
        return
    raise click.ClickException(_line(key, lang, **params))
