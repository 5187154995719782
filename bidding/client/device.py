"""Device fingerprint (机器码): a hash of stable machine identifiers, sent with each submission.

It is evidence for the collusion detector (two companies bidding from one machine), not an
authenticator; it never includes the identifiers themselves.
"""

from __future__ import annotations

import hashlib
import platform
import socket
import uuid
from pathlib import Path


def _machine_id() -> str:
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            return Path(path).read_text().strip()
        except OSError:
            continue
    return ""


def fingerprint() -> str:
    parts = [
        _machine_id(),
        f"{uuid.getnode():012x}",
        socket.gethostname(),
        platform.machine(),
        platform.system(),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
