"""The ``tenderhall`` command: serve, database, accounts, ledger, demo data, and domain commands.

Errors end as one readable line on stderr and a non-zero exit.
"""

from __future__ import annotations

import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

# asyncio and the settings (which bring the storage backends) are imported by the commands that use
# them: `tenderhall --help` and `tenderhall bid ...` need neither.
if TYPE_CHECKING:
    from tenderhall.settings import Settings

T = TypeVar("T")


def _settings() -> Settings:
    from tenderhall.settings import Settings, SettingsError

    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _run(coro: Coroutine[Any, Any, T]) -> T:
    import asyncio

    return asyncio.run(coro)


def _alembic(settings: Settings) -> Any:
    from advanced_alchemy.alembic.commands import AlembicCommands

    from tenderhall.compose import import_models
    from tenderhall.db.engine import sqlalchemy_config

    import_models()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return AlembicCommands(sqlalchemy_config=sqlalchemy_config(settings.database_url))


class _LazyGroup(click.Group):
    """The root group: domain commands are imported only when they run (or their own help is
    asked for), so a bidder's `tenderhall bid ...` never loads the web app or the detector."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, tuple[str, str]] = {}

    def add_lazy(self, name: str, target: str, short_help: str) -> None:
        self.lazy[name] = (target, short_help)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            self.add_command(load_lazy(self.lazy[cmd_name][0]), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(len(name) for name in self.list_commands(ctx))
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                if not self.commands[name].hidden:
                    rows.append((name, self.commands[name].get_short_help_str(limit)))
            else:
                rows.append((name, click.Command(name, help=self.lazy[name][1]).get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def load_lazy(target: str) -> click.Command:
    """``"package.module:attribute"`` → the click command it names."""
    import importlib

    module, _, attribute = target.partition(":")
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command), target
    return command


@click.group(cls=_LazyGroup, help="TenderHall: open e-tendering for public-resource trading centres.")
@click.version_option(package_name="tenderhall")
def cli() -> None:
    pass


# -- database ---------------------------------------------------------------------------------
@cli.group(help="Database schema (Alembic is the only way a schema is made).")
def db() -> None:
    pass


@db.command("upgrade", help="Upgrade the schema to REVISION (default: the newest).")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    _alembic(_settings()).upgrade(revision)
    click.echo(f"database upgraded to {revision}")


@db.command("downgrade", help="Downgrade the schema to REVISION ('base' removes every table).")
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def db_downgrade(revision: str, yes: bool) -> None:
    if not yes:
        click.confirm(f"Downgrade the database to {revision}? Data in dropped tables is lost", abort=True)
    _alembic(_settings()).downgrade(revision)
    click.echo(f"database downgraded to {revision}")


@db.command("current", help="Show the schema revision of the database.")
def db_current() -> None:
    _alembic(_settings()).current(verbose=False)


@db.command("check", help="Fail if the models and the migrations disagree.")
def db_check() -> None:
    _alembic(_settings()).check()
    click.echo("models and migrations agree")


# -- serving ----------------------------------------------------------------------------------
@cli.command(help="Start the web server (migrates the database first).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers", default=None, type=int, help="Worker processes (default: TENDERHALL_WORKERS or 1)."
)
@click.option("--demo", is_flag=True, help="Seed the demo data if the database is empty.")
@click.option("--no-migrate", is_flag=True, help="Do not upgrade the schema before starting.")
def serve(host: str, port: int, workers: int | None, demo: bool, no_migrate: bool) -> None:
    import uvicorn

    settings = _settings()
    workers = workers or settings.workers
    if workers > 1 and settings.is_sqlite:
        raise click.ClickException("several workers need PostgreSQL: set TENDERHALL_DATABASE_URL")
    if not no_migrate:
        _alembic(settings).upgrade("head")
    if demo:
        _seed(settings, only_if_empty=True, address=f"http://{host}:{port}")
    click.echo(f"TenderHall is at http://{host}:{port}/  (API docs: http://{host}:{port}/api/docs)")
    click.echo(f"data directory: {settings.data_dir}; database: {settings.database_url.split('@')[-1]}")
    uvicorn.run(
        "tenderhall.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        # The app itself reads X-Forwarded-For, from TENDERHALL_TRUSTED_PROXIES only; uvicorn's own
        # handling would trust 127.0.0.1 (any local process) by default.
        proxy_headers=False,
    )


@cli.command(help="Run a background job worker (beside the web server's own) until stopped.")
@click.option("--until-idle", is_flag=True, help="Stop once no job is due (after reconciling).")
def worker(until_idle: bool) -> None:
    from tenderhall.compose import build_services

    settings = _settings()

    async def go() -> None:
        services = build_services(settings)
        try:
            await services.jobs.work(name="cli", until_idle=until_idle)
        finally:
            await services.jobs.close()
            await services.engine.dispose()

    try:
        _run(go())
    except KeyboardInterrupt:  # Ctrl-C: the worker has finished or put back its jobs
        click.echo("worker stopped")


@cli.command(help="Seed the deterministic demo data into an empty database (migrates first).")
def demo() -> None:
    settings = _settings()
    _alembic(settings).upgrade("head")
    _seed(settings, only_if_empty=False)


def _seed(settings: Settings, only_if_empty: bool, address: str | None = None) -> None:
    """Seed the demo; its banner names pages at ``address`` (the server being started), else at
    the configured base URL."""
    from tenderhall.demo import print_accounts, seed

    result = _run(seed(settings, only_if_empty=only_if_empty))
    if result is None:
        click.echo("the database already holds data; demo seeding skipped")
        return
    print_accounts(result, address or settings.base_url)


# -- accounts ---------------------------------------------------------------------------------
@cli.group(help="Accounts.")
def users() -> None:
    pass


@users.command("create", help="Create an account. The password is asked for unless --password is given.")
@click.option("--username", required=True)
@click.option(
    "--role",
    required=True,
    type=click.Choice(["bidder", "tenderer", "agent", "staff", "expert", "supervisor", "custodian", "admin"]),
)
@click.option("--display-name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--email", default=None)
@click.option("--region", "region_code", default=None, help="Region code (e.g. YRD).")
@click.option("--centre", "centre_code", default=None, help="Centre code, for staff.")
@click.option(
    "--organisation", "org_uscc", default=None, help="USCC of the tenderer/agency, for those roles."
)
@click.option("--company", "company_uscc", default=None, help="USCC of the company, for bidders.")
def users_create(
    username: str,
    role: str,
    display_name: str,
    password: str,
    email: str | None,
    region_code: str | None,
    centre_code: str | None,
    org_uscc: str | None,
    company_uscc: str | None,
) -> None:
    from sqlalchemy import select

    from tenderhall.auth.roles import Role
    from tenderhall.compose import build_services, import_models
    from tenderhall.errors import InvalidInput
    from tenderhall.orgs.models import Centre, Company, Organisation, Region

    async def go() -> str:
        import_models()
        services = build_services(_settings())
        try:
            async with services.transaction() as db:
                region = centre = org = company = None
                if region_code:
                    region = await db.scalar(select(Region).where(Region.code == region_code))
                    if region is None:
                        raise InvalidInput("company.region_unknown")
                if centre_code:
                    centre = await db.scalar(select(Centre).where(Centre.code == centre_code))
                    if centre is None:
                        raise InvalidInput("tender.centre_unknown")
                if org_uscc:
                    org = await db.scalar(select(Organisation).where(Organisation.uscc == org_uscc.upper()))
                    if org is None:
                        raise InvalidInput("tender.tenderer_unknown")
                if company_uscc:
                    company = await db.scalar(select(Company).where(Company.uscc == company_uscc.upper()))
                    if company is None:
                        raise InvalidInput("error.not_found", kind="company")
                region_id = (
                    (region.id if region else None)
                    or (centre.region_id if centre else None)
                    or (org.region_id if org else None)
                    or (company.region_id if company else None)
                )
                user = await services.accounts.create_user(
                    db,
                    username=username,
                    password=password,
                    role=Role(role),
                    display_name=display_name,
                    email=email,
                    region_id=region_id,
                    centre_id=centre.id if centre else None,
                    organisation_id=org.id if org else None,
                    company_id=company.id if company else None,
                )
                return str(user.id)
        finally:
            await services.engine.dispose()

    click.echo(f"created {role} {username} ({_run(go())})")


# -- ledger -----------------------------------------------------------------------------------
@cli.group(help="The tamper-evident ledger.")
def ledger() -> None:
    pass


@ledger.command(
    "verify",
    help="Re-check the whole log offline, against checkpoints saved earlier, and against what the "
    "configured witnesses cosigned (TENDERHALL_WITNESSES).",
)
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A signed checkpoint saved earlier (repeatable).",
)
@click.option(
    "--offline", is_flag=True, help="Do not ask the witnesses for their latest cosigned checkpoints."
)
def ledger_verify(checkpoints: tuple[Path, ...], offline: bool) -> None:
    from rich.progress import Progress

    from tenderhall.compose import build_services, import_models
    from tenderhall.ledger.service import verify_log

    async def go() -> Any:
        import_models()
        services = build_services(_settings())
        try:
            async with services.sessionmaker() as db:
                evidence = await services.cosigning.evidence(db, online=not offline)
                size, _ = await services.ledger.tree_head(db)
                with Progress(transient=True) as progress:
                    task = progress.add_task("verifying", total=size)
                    report = await verify_log(
                        db,
                        services.ledger.verifier,
                        services.ledger.origin,
                        [p.read_text(encoding="utf-8") for p in checkpoints],
                        progress=lambda n: progress.update(task, completed=n) if n % 1000 == 0 else None,
                        witnessed=evidence.checkpoints,
                    )
                return report, evidence
        finally:
            await services.engine.dispose()

    report, evidence = _run(go())
    for warning in evidence.warnings:
        click.echo(f"warning: {warning}", err=True)
    if evidence.problems:
        raise click.ClickException(f"ledger verification FAILED: {evidence.problems[0]}")
    if not report.ok:
        where = f" (first bad index {report.first_bad_index})" if report.first_bad_index is not None else ""
        raise click.ClickException(f"ledger verification FAILED{where}: {report.problem}")
    import base64

    witnessed = ", ".join(f"{name} at {size}" for name, size in sorted(evidence.witnessed.items()))
    click.echo(
        f"ledger OK: {report.size} entries, root {base64.b64encode(report.root).decode()}, "
        f"{report.checkpoints_checked} checkpoints matched"
        + (f"; witnessed by {witnessed}" if witnessed else "")
    )


@ledger.command("checkpoint", help="Print a signed checkpoint of the current tree (save it to verify later).")
def ledger_checkpoint() -> None:
    from tenderhall.compose import build_services, import_models

    async def go() -> str:
        import_models()
        services = build_services(_settings())
        try:
            async with services.sessionmaker() as db:
                size, root = await services.ledger.tree_head(db)
                return services.ledger.sign(size, root)
        finally:
            await services.engine.dispose()

    click.echo(_run(go()), nl=False)


def _head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from tenderhall.paths import migrations_dir

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def _check_platform(settings: Settings, what: str) -> None:
    """Run the integrity check; one line naming the first problems if it fails."""
    from tenderhall.compose import build_services, domain_plugins
    from tenderhall.integrity import check_integrity

    async def go() -> list[str]:
        services = build_services(settings)
        checks = [c for p in domain_plugins() if (c := getattr(p, "check_integrity", None)) is not None]
        try:
            async with services.sessionmaker() as db:
                return await check_integrity(services, db, checks)
        finally:
            await services.engine.dispose()

    problems = _run(go())
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise click.ClickException(f"{what} FAILED: {shown}")
    click.echo("integrity OK: the ledger verifies and every stored file matches its record")


@cli.command(help="Back up the whole platform (database and stored files) into one file, while it runs.")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--with-secrets",
    is_flag=True,
    help="Include the platform keys (session, data, ledger signing): keep such a file as safe as the keys.",
)
def backup(out: Path, with_secrets: bool) -> None:
    from tenderhall.backup.archive import BackupError, create_backup
    from tenderhall.compose import build_services
    from tenderhall.db.base import metadata

    if out.exists():
        raise click.ClickException(f"{out} exists: choose a new name")
    settings = _settings()

    async def go() -> Any:
        services = build_services(settings)
        try:
            return await create_backup(
                settings.database_url,
                metadata,
                services.storage,
                out,
                head=_head_revision(),
                now=services.clock.now(),
                secrets_dir=settings.secrets_dir if with_secrets else None,
            )
        finally:
            await services.engine.dispose()

    try:
        summary = _run(go())
    except BackupError as exc:
        raise click.ClickException(f"backup failed: {exc}") from None
    rows = sum(summary.tables.values())
    keys = "with the platform keys" if summary.secrets else "without the platform keys"
    click.echo(
        f"backup written to {out}: {rows} rows, {summary.blobs} files ({summary.blob_bytes} bytes), {keys}"
    )


@cli.command(help="Restore a backup into a new (empty) database and storage, then check the result.")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(source: Path) -> None:
    from tenderhall.backup.archive import BackupError, restore_backup
    from tenderhall.compose import import_models
    from tenderhall.db.base import metadata
    from tenderhall.db.engine import make_engine
    from tenderhall.keys import DATA_KEY, LEDGER_KEY, SESSION_KEY, WITNESS_KEY
    from tenderhall.services import make_storage

    settings = _settings()
    _alembic(settings).upgrade("head")
    import_models()

    async def load() -> Any:
        engine = make_engine(settings.database_url)
        try:
            return await restore_backup(
                source,
                engine,
                metadata,
                make_storage(settings),
                head=_head_revision(),
                secrets_dir=settings.secrets_dir,
                required_secrets=(SESSION_KEY, DATA_KEY, LEDGER_KEY, WITNESS_KEY),
            )
        finally:
            await engine.dispose()

    try:
        summary = _run(load())
    except BackupError as exc:
        raise click.ClickException(f"restore refused: {exc}") from None
    click.echo(f"restored {sum(summary.tables.values())} rows and {summary.blobs} files from {source}")
    _check_platform(settings, "integrity check of the restored platform")


@cli.command(
    help="Check the platform: re-verify the ledger and re-hash every stored file against its record."
)
def check() -> None:
    _check_platform(_settings(), "integrity check")


@ledger.command(
    "keys",
    help="Print this deployment's ledger key (for a witness's TENDERHALL_WITNESS_LOGS) and witness key "
    "(for a log's TENDERHALL_WITNESSES).",
)
def ledger_keys() -> None:
    from tenderhall.keys import PlatformKeys

    settings = _settings()
    keys = PlatformKeys.load(settings.secrets_dir, settings.ledger_origin, settings.witness_name)
    click.echo(f"ledger {keys.ledger_signer.verifier().key_string()}")
    click.echo(f"witness {keys.witness_signer.verifier().key_string()}")


@ledger.command("cosign", help="Ask the configured witnesses to cosign the newest checkpoint now.")
def ledger_cosign() -> None:
    from tenderhall.compose import build_services, import_models

    async def go() -> list[Any]:
        import_models()
        services = build_services(_settings())
        try:
            await services.cosigning.cosign(respect_backoff=False)
            async with services.sessionmaker() as db:
                return await services.cosigning.states(db)
        finally:
            await services.engine.dispose()

    states = _run(go())
    if not states:
        raise click.ClickException("no witness was asked: none is configured or no checkpoint exists yet")
    for state in states:
        name = state.witness.split("+", 1)[0]
        status = f"error: {state.last_error}" if state.last_error else "ok"
        click.echo(f"{name}: cosigned size {state.size}; {status}")


def _mount_domain_commands() -> None:
    from tenderhall.compose import domain_plugins

    assert isinstance(cli, _LazyGroup)
    for plugin in domain_plugins():
        for name, (target, short_help) in plugin.CLI_COMMANDS.items():
            cli.add_lazy(name, target, short_help)


def main(argv: list[str] | None = None) -> None:
    """Entry point: translate every expected failure into one line and exit status 1."""
    _mount_domain_commands()
    try:
        cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:
        _fail(exc)


def _fail(exc: Exception) -> None:
    """One line for every expected failure; anything else is a bug and keeps its traceback."""
    # Imported only on failure: a command that never touched the database does not load SQLAlchemy.
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from tenderhall.errors import DomainError
    from tenderhall.keys import KeyFileError
    from tenderhall.settings import SettingsError

    if isinstance(exc, DomainError):
        line = exc.message("en")
    elif isinstance(exc, KeyFileError | SettingsError):
        line = str(exc)
    elif isinstance(exc, OperationalError):
        line = f"cannot reach the database: {str(exc.orig).splitlines()[0]}"
    elif isinstance(exc, SQLAlchemyError):
        line = f"database error: {str(exc).splitlines()[0]}"
    elif isinstance(exc, ConnectionRefusedError) or (
        isinstance(exc, OSError) and "connect" in str(exc).lower()
    ):
        line = f"cannot reach the database: {exc}"
    elif isinstance(exc, OSError):
        line = str(exc)
    else:
        raise exc
    click.echo(f"error: {line}", err=True)
    sys.exit(1)
