"""Blob storage: content-addressed blobs in a local folder (the default) or an S3-compatible bucket.

``tenderhall.storage.s3`` is imported only where S3 is configured, so the embedded default never
loads boto3.
"""

from tenderhall.storage.base import CHUNK, Storage, StorageError, Stored, TooLarge, check_key, parse_s3_url
from tenderhall.storage.local import LocalStorage

__all__ = [
    "CHUNK",
    "LocalStorage",
    "Storage",
    "StorageError",
    "Stored",
    "TooLarge",
    "check_key",
    "parse_s3_url",
]
