"""``tenderhall worker`` and ``tenderhall archive build`` as real processes: a worker process
reconciles a version no queue was told about, and an operator's build answers in one line."""

from __future__ import annotations

from archive.jobs import Archives
from archive.ports import NoBuilder
from tests.archive.helpers import ended_tender, version_of


async def test_a_worker_process_and_an_operator_build_take_pending_work(
    services, world, settings, run_cli
) -> None:
    assert isinstance(services.get(Archives).builder, NoBuilder)
    tender = await ended_tender(services, world)  # no queue runs here: only the table knows
    url = settings.database_url

    worker = run_cli(url, "worker", "--until-idle", data_dir=settings.data_dir)
    assert worker.returncode == 0, worker.stderr
    version = await version_of(services, tender.id)
    # This deployment has no document builder yet: the attempt fails, visibly, and waits to retry.
    assert (version.status, version.attempts) == ("pending", 1)
    assert version.last_error == "LookupError: no archive document builder is installed in this deployment"

    build = run_cli(url, "archive", "build", tender.reference, "--lang", "en", data_dir=settings.data_dir)
    assert build.returncode == 1
    assert build.stderr.strip().splitlines() == [
        "Error: The archive build failed: LookupError: no archive document builder is installed in this "
        "deployment"
    ]
    assert (await version_of(services, tender.id)).attempts == 2

    for bad in ("no-such-tender", "x" * 5000, ""):
        refused = run_cli(url, "archive", "build", bad, data_dir=settings.data_dir)
        assert refused.returncode == 1
        assert len(refused.stderr.strip().splitlines()) == 1
        assert "找不到招标项目" in refused.stderr
