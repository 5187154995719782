"""The tender's real records, stage by stage, as frozen dataclasses (never re-typed)."""
