"""Checks of an archive against the live platform: the attached checkpoint is a prefix of the
platform's latest (RFC 9162 consistency), and the attached OCDS record equals the published one.

The platform is reached at a base URL (``--online URL``); the published record comes from a URL
template (``--ocds-url``, default `DEFAULT_OCDS_TEMPLATE`) whose ``{base}``, ``{ocid}`` and
``{tender}`` are filled in.  The answer may be the record itself or a record package
(``{"records": [...]}``), from which the record of the same ``ocid`` is taken.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from tenderhall.ledger import canonical, merkle
from tenderhall.ledger.checkpoint import Checkpoint, open_checkpoint
from tenderhall.ledger.note import NoteError, Verifier

DEFAULT_OCDS_TEMPLATE = "{base}/api/v1/ocds/records/{ocid}"
MAX_ANSWER_BYTES = 16 << 20
TIMEOUT = 15.0


class OnlineError(Exception):
    """The platform could not be asked, or answered something unusable."""


@dataclass(frozen=True)
class Outcome:
    """A check's result: ``problem`` is a catalogue key, None when the check passed."""

    problem: str | None
    params: dict[str, Any]


def _get(client: httpx.Client, url: str) -> bytes:
    try:
        with client.stream("GET", url) as answer:
            if answer.status_code != 200:
                raise OnlineError(f"{url}: HTTP {answer.status_code}")
            body = bytearray()
            for chunk in answer.iter_bytes():
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise OnlineError(f"{url}: the answer is larger than {MAX_ANSWER_BYTES} bytes")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise OnlineError(f"{url}: {exc}") from None


def client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False)


def platform_key(http: httpx.Client, base: str) -> Verifier:
    text = _get(http, f"{base}/api/v1/ledger/key").decode("utf-8", "replace").strip()
    try:
        return Verifier.from_key_string(text)
    except NoteError as exc:
        raise OnlineError(f"the platform's ledger key is malformed: {exc}") from None


def check_consistency(http: httpx.Client, base: str, verifier: Verifier, attached: Checkpoint) -> Outcome:
    """The platform's latest checkpoint (signed by ``verifier``) extends the attached one."""
    note = _get(http, f"{base}/api/v1/ledger/checkpoint").decode("utf-8", "replace")
    try:
        latest = open_checkpoint(note, verifier, attached.origin)
    except NoteError as exc:
        return Outcome("archive.verify.latest_unsigned", {"reason": str(exc)})
    if latest.size < attached.size:
        return Outcome("archive.verify.latest_smaller", {"latest": latest.size, "size": attached.size})
    proof: list[bytes] = []
    if latest.size > attached.size:
        url = f"{base}/api/v1/ledger/proof/consistency?first={attached.size}&second={latest.size}"
        try:
            answer = json.loads(_get(http, url))
            proof = [base64.b64decode(p, validate=True) for p in answer["proof"]]
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise OnlineError("the platform's consistency proof is malformed") from None
    if not merkle.verify_consistency(attached.size, latest.size, proof, attached.root, latest.root):
        return Outcome("archive.verify.inconsistent", {"size": attached.size, "latest": latest.size})
    return Outcome(None, {"size": attached.size, "latest": latest.size})


def check_ocds(http: httpx.Client, base: str, template: str, attached: bytes | None, tender: str) -> Outcome:
    """The attached ``ocds-record.json`` equals the record the platform publishes."""
    if attached is None:
        return Outcome("archive.verify.ocds_missing", {})
    try:
        record = json.loads(attached)
        ocid = record["ocid"]
        if not isinstance(ocid, str):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return Outcome("archive.verify.ocds_malformed", {})
    url = template.format(base=base, ocid=quote(ocid, safe=""), tender=quote(tender, safe=""))
    try:
        published: Any = json.loads(_get(http, url))
    except ValueError:
        raise OnlineError(f"{url}: not JSON") from None
    if isinstance(published, dict) and isinstance(published.get("records"), list):
        published = next(
            (r for r in published["records"] if isinstance(r, dict) and r.get("ocid") == ocid), None
        )
    if not isinstance(published, dict):
        return Outcome("archive.verify.ocds_not_published", {"ocid": ocid})
    if canonical.dumps(published) == canonical.dumps(record):
        return Outcome(None, {"ocid": ocid})
    differ = sorted(k for k in {*record, *published} if record.get(k) != published.get(k))
    return Outcome("archive.verify.ocds_differs", {"ocid": ocid, "fields": ", ".join(differ)})
