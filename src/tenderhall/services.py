"""The platform's long-lived services, built once per process from settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from tenderhall.auth.service import Accounts
from tenderhall.auth.throttle import Limits, SignInThrottle
from tenderhall.clock import Clock, SystemClock
from tenderhall.db.engine import make_engine, read_only
from tenderhall.jobs import Jobs
from tenderhall.keys import PlatformKeys, derive_key
from tenderhall.ledger.cosignature import CosignatureVerifier
from tenderhall.ledger.note import NoteError, Verifier
from tenderhall.ledger.service import Ledger
from tenderhall.ledger.tlog_witness import trusted_logs
from tenderhall.ledger.witness import Cosigning, Witness, WitnessEndpoint
from tenderhall.orgs.service import Companies, Directory
from tenderhall.registry import Key, Registry
from tenderhall.settings import Settings, SettingsError
from tenderhall.storage import LocalStorage, Storage
from tenderhall.tenders.clarifications import Clarifications
from tenderhall.tenders.service import Tenders

T = TypeVar("T")


@dataclass
class Services:
    settings: Settings
    clock: Clock
    keys: PlatformKeys
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # Sessions whose transactions only read and take no write lock (db.engine.read_only).
    reader: async_sessionmaker[AsyncSession]
    ledger: Ledger
    accounts: Accounts
    tenders: Tenders
    clarifications: Clarifications
    companies: Companies
    directory: Directory
    storage: Storage
    witness: Witness  # the witness role, for other deployments' logs
    cosigning: Cosigning  # this ledger's witnesses
    jobs: Jobs  # the background job queue (tenderhall.jobs)
    # The domain packages' services, by type (filled by compose.build_services).
    registry: Registry = field(default_factory=Registry)

    def get(self, kind: type[T] | Key[T]) -> T:
        """A domain package's service, e.g. ``services.get(Bidding)``."""
        return self.registry.get(kind)

    @classmethod
    def build(
        cls, settings: Settings, clock: Clock | None = None, engine: AsyncEngine | None = None
    ) -> Services:
        clock = clock or SystemClock(settings.clock_offset)
        keys = PlatformKeys.load(settings.secrets_dir, settings.ledger_origin, settings.witness_name)
        engine = engine or make_engine(
            settings.database_url, **({"poolclass": NullPool} if settings.null_pool else {})
        )
        ledger = Ledger(
            keys.ledger_signer, settings.ledger_origin, clock, derive_key(keys.data_key, "ledger-blinding")
        )
        sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        witnessed, witnesses = _witness_keys(settings)
        tenders = Tenders(clock, ledger, sessionmaker)
        return cls(
            settings=settings,
            clock=clock,
            keys=keys,
            engine=engine,
            sessionmaker=sessionmaker,
            reader=async_sessionmaker(read_only(engine), expire_on_commit=False),
            ledger=ledger,
            accounts=Accounts(
                clock,
                ledger,
                SignInThrottle(
                    clock,
                    derive_key(keys.data_key, "sign-in-throttle"),
                    Limits(
                        free_failures=settings.login_free_failures,
                        source_free_failures=settings.login_source_free_failures,
                        max_delay=timedelta(seconds=settings.login_max_delay_seconds),
                    ),
                ),
                settings.session_hours,
                PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib),
            ),
            tenders=tenders,
            clarifications=Clarifications(clock, ledger, tenders),
            directory=Directory(ledger),
            companies=Companies(ledger, derive_key(keys.data_key, "person-hash")),
            storage=make_storage(settings),
            witness=Witness(keys.witness_signer, trusted_logs(witnessed), clock),
            cosigning=Cosigning(ledger, witnesses, sessionmaker, clock, settings.witness_timeout),
            jobs=Jobs(settings.database_url),
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on any error."""
        async with self.sessionmaker() as session, session.begin():
            yield session


def _witness_keys(settings: Settings) -> tuple[list[Verifier], list[WitnessEndpoint]]:
    """The logs this deployment witnesses and the witnesses it asks, from their key strings."""
    try:
        logs = [Verifier.from_key_string(k) for k in settings.witness_logs]
    except NoteError as exc:
        raise SettingsError(f"TENDERHALL_WITNESS_LOGS holds a bad log verifier key: {exc}") from None
    try:
        witnesses = [
            WitnessEndpoint(url, CosignatureVerifier.from_key_string(k)) for url, k in settings.witnesses
        ]
    except NoteError as exc:
        raise SettingsError(f"TENDERHALL_WITNESSES holds a bad witness key: {exc}") from None
    return logs, witnesses


def make_storage(settings: Settings) -> Storage:
    """The bucket of ``TENDERHALL_STORAGE_URL`` if set, else the local folder."""
    if not settings.storage_url:
        return LocalStorage(settings.storage_dir)
    from tenderhall.storage import s3  # boto3 only where it is used

    return s3.connect(
        settings.storage_url,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
        addressing_style=settings.s3_addressing_style,
    )
