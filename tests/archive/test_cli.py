"""``tenderhall worker`` and ``tenderhall archive build`` as real processes: a worker process
reconciles a version no queue was told about and builds the signed archive, and an operator's
build answers in one line."""

from __future__ import annotations

from archive.build import SignedArchiveBuilder
from archive.jobs import Archives
from tenderhall.tenders.models import Tender
from tests.archive.helpers import ended_tender, version_of


async def test_a_worker_process_builds_the_archive_and_an_operator_build_answers_in_one_line(
    services, world, settings, run_cli
) -> None:
    assert isinstance(services.get(Archives).builder, SignedArchiveBuilder)
    tender = await ended_tender(services, world)  # no queue runs here: only the table knows
    url = settings.database_url

    worker = run_cli(url, "worker", "--until-idle", data_dir=settings.data_dir)
    assert worker.returncode == 0, worker.stderr
    version = await version_of(services, tender.id)
    assert (version.status, version.attempts, version.last_error) == ("built", 1, None)
    assert version.sha256 is not None
    async with services.transaction() as db:
        assert (await db.get(Tender, tender.id)).state == "archived"  # type: ignore[union-attr]

    build = run_cli(url, "archive", "build", tender.reference, "--lang", "en", data_dir=settings.data_dir)
    assert build.returncode == 0, build.stderr
    assert build.stdout.strip().splitlines() == [
        f"Archive version 1 is already built, SHA-256 {version.sha256}"
    ]

    for bad in ("no-such-tender", "x" * 5000, ""):
        refused = run_cli(url, "archive", "build", bad, data_dir=settings.data_dir)
        assert refused.returncode == 1
        assert len(refused.stderr.strip().splitlines()) == 1
        assert "找不到招标项目" in refused.stderr
