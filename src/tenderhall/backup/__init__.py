"""Backups of a whole platform (database and blobs) and the integrity check a restore ends with."""
