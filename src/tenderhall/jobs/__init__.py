"""Background jobs (procrastinate): stored in PostgreSQL in production, in process on SQLite.

See :mod:`tenderhall.jobs.queue` and docs/architecture.md, "How to add a job"."""

from tenderhall.jobs.queue import Backoff, GiveUp, Jobs, Reconciler, Tuning

__all__ = ["Backoff", "GiveUp", "Jobs", "Reconciler", "Tuning"]
