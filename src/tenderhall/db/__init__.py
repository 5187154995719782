"""Database plumbing: the declarative bases, the engine configuration and transactions."""
