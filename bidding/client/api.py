"""The client's HTTP side (httpx, Bearer token) and the multi-step operations it drives."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from bidding import envelope, sealed, signing
from bidding.client.keys import BidderKeys
from tenderhall.files import atomic_write

CHUNK = 8 * 1024 * 1024  # one PATCH; the envelope is never read whole into memory
TOOL = "tenderhall-bid/0.1"


class ApiError(RuntimeError):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail


class Api:
    def __init__(
        self, url: str, token: str | None = None, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        headers = {"User-Agent": TOOL}
        if language := accept_language():
            headers["Accept-Language"] = language  # the server's messages in the user's language
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(base_url=url, headers=headers, timeout=120.0, transport=transport)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
                raise ApiError(response.status_code, body.get("code", "?"), body.get("detail", response.text))
            except ValueError:
                raise ApiError(response.status_code, "http", response.text) from None
        if not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text

    def close(self) -> None:
        self.http.close()


def accept_language() -> str | None:
    """The user's language from the POSIX locale variables, for the server's messages."""
    import os

    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value.startswith("en"):
            return "en"
        if value.startswith("zh"):
            return "zh-CN"
    return None


def tender_id(api: Api, tender: str) -> str:
    """The UUID of the tender named by ``tender`` (its UUID or reference number, e.g.
    SH-2026-0009): what signed statements and key shares are bound to."""
    import uuid

    try:
        return str(uuid.UUID(tender))
    except ValueError:
        return str(api.call("GET", f"/api/v1/tenders/{quote(tender, safe='')}")["id"])


def register_for(api: Api, tender: str) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """Register the caller's company for a tender (报名): the tender, the registration, and
    whether it already was registered (registering twice changes nothing)."""
    notice = api.call("GET", f"/api/v1/tenders/{quote(tender, safe='')}")
    try:
        mine = api.call("GET", f"/api/v1/tenders/{notice['id']}/registrations")
    except ApiError as exc:
        if exc.status != 403:
            raise
        mine = []  # not registered yet: a bidder reads only its own registration
    if mine:
        return notice, mine[0], True
    return notice, api.call("POST", f"/api/v1/tenders/{notice['id']}/registrations"), False


def login(url: str, username: str, password: str, transport: httpx.BaseTransport | None = None) -> str:
    api = Api(url, transport=transport)
    try:
        out = api.call("POST", "/api/v1/auth/token", json={"username": username, "password": password})
    finally:
        api.close()
    return str(out["token"])


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def my_company(api: Api) -> dict[str, Any]:
    me = api.call("GET", "/api/v1/auth/me")
    if not me.get("company_id"):
        raise ApiError(400, "client.no_company", "this account does not belong to a bidder company")
    return api.call("GET", f"/api/v1/companies/{me['company_id']}")  # type: ignore[no-any-return]


def register_keys(api: Api, keys: BidderKeys) -> dict[str, Any]:
    company = my_company(api)
    statement = signing.registration_statement(company["id"], keys.recipient, keys.signing_public)
    return api.call(  # type: ignore[no-any-return]
        "POST",
        "/api/v1/bidding/keys",
        json={
            "opening": keys.recipient,
            "signing": keys.signing_public,
            "proof": signing.sign(keys.signing, statement),
        },
    )


def seal_file(
    sealing: dict[str, Any], recipient: envelope.X25519Recipient, package: Path, out: Path, bid: str
) -> int:
    """Seal ``package`` into ``out`` as the tender's sealing answer asks (the shared recipe)."""
    with package.open("rb") as src, atomic_write(out) as dst:
        return sealed.seal(src, dst, recipient, sealing.get("remedy"), sealing["tender"], bid)


def idempotency_key(tender: str, bid: str, sha: str) -> str:
    """Deterministic: retrying the same envelope for the same bid reuses the same upload."""
    return hashlib.sha256(f"{tender}|{bid}|{sha}".encode()).hexdigest()[:40]


def submit(
    api: Api,
    keys: BidderKeys,
    path: Path,
    tender: str,
    bid: str,
    uscc: str,
    device: str,
    *,
    bond: dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = CHUNK,
    stop_after: int | None = None,
) -> dict[str, Any]:
    """Upload (or resume) and complete; returns the receipt.  ``stop_after`` (bytes) simulates an
    interrupted connection for tests."""
    size = path.stat().st_size
    sha = sha256_file(path)
    manifest = signing.manifest(
        tender=tender,
        bidder=uscc,
        bid=bid,
        envelope_sha256=sha,
        size=size,
        client={"tool": TOOL, "device": device},
    )
    body: dict[str, Any] = {
        "manifest": manifest,
        "signature": signing.sign(keys.signing, manifest),
        "idempotency_key": idempotency_key(tender, bid, sha),
    }
    if bond:
        body["bond"] = bond
    upload = api.call("POST", f"/api/v1/tenders/{tender}/uploads", json=body)
    if upload.get("receipt"):
        return upload["receipt"]  # type: ignore[no-any-return]
    offset = int(upload["offset"])
    sent = 0
    with path.open("rb") as handle:
        while offset < size:
            if stop_after is not None and sent >= stop_after:
                raise ApiError(0, "client.interrupted", f"stopped at offset {offset}")
            handle.seek(offset)
            data = handle.read(min(chunk, size - offset))
            try:
                out = api.call(
                    "PATCH",
                    f"/api/v1/uploads/{upload['id']}",
                    content=data,
                    headers={"Upload-Offset": str(offset), "Content-Type": "application/octet-stream"},
                )
                offset = int(out["offset"])
            except ApiError as exc:
                if exc.code != "bid.upload_offset":
                    raise
                offset = int(api.call("GET", f"/api/v1/uploads/{upload['id']}")["offset"])
            sent += len(data)
            if progress:
                progress(offset, size)
    done = api.call(
        "POST", f"/api/v1/uploads/{upload['id']}/complete", headers={"X-Device-Fingerprint": device}
    )
    return done["receipt"]  # type: ignore[no-any-return]


def withdraw(api: Api, keys: BidderKeys, tender: str, bid: str, sha: str) -> dict[str, Any]:
    statement = signing.withdrawal_statement(tender, bid, sha)
    return api.call(  # type: ignore[no-any-return]
        "POST",
        f"/api/v1/tenders/{tender}/bids/{bid}/withdraw",
        json={"signature": signing.sign(keys.signing, statement)},
    )


def file_key(path: Path, identity: envelope.X25519Identity) -> bytes:
    """Unwrap the file key locally; it leaves the machine only inside the decryption window."""
    with path.open("rb") as handle:
        header, _ = envelope.parse_header(handle)
    return envelope.unwrap_file_key(header, [identity])


def send_file_key(api: Api, tender: str, bid: str, key: bytes) -> dict[str, Any]:
    return api.call(  # type: ignore[no-any-return]
        "POST",
        f"/api/v1/tenders/{tender}/hall/bids/{bid}/key",
        json={"file_key": base64.b64encode(key).decode()},
    )


def release_shares(api: Api, tender: str, identity: envelope.X25519Identity) -> list[dict[str, Any]]:
    """Open this custodian's share of every bid it is asked about, and release it."""
    results = []
    for request in api.call("GET", f"/api/v1/tenders/{tender}/hall/share-requests"):
        header, _ = envelope.parse_header(io.BytesIO(base64.b64decode(request["header"])))
        share = envelope.open_custodian_share(
            header, envelope.Binding(tender, request["bid"]), request["custodian"], identity.private_key
        )
        out = api.call(
            "POST",
            f"/api/v1/tenders/{tender}/hall/bids/{request['bid']}/share",
            json={"index": share.index, "value": base64.b64encode(share.value).decode()},
        )
        results.append({"bid": request["bid"], **out})
    return results


def sign_record(api: Api, keys: BidderKeys, tender: str) -> dict[str, Any]:
    from bidding.hall import record_digest

    snapshot = api.call("GET", f"/api/v1/tenders/{tender}/hall")
    record = snapshot.get("record")
    if not record:
        raise ApiError(409, "client.no_record", "the opening record is not published yet")
    digest = record_digest(record)  # sign what we saw, not what the server says it is
    statement = signing.record_statement(tender, digest)
    return api.call(  # type: ignore[no-any-return]
        "POST",
        f"/api/v1/tenders/{tender}/hall/record/sign",
        json={"signature": signing.sign(keys.signing, statement)},
    )
