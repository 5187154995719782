"""The public ledger API, used the way an outside auditor would: pin the key and origin, fetch
signed checkpoints, recompute roots from the entries, and check every proof client-side."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import rfc8785
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tenderhall.ledger import merkle
from tenderhall.ledger.checkpoint import Checkpoint, open_checkpoint
from tenderhall.ledger.note import Verifier
from tenderhall.services import Services

API = "/api/v1/ledger"
Client = AsyncTestClient[Litestar]


def b64d(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


async def append_many(services: Services, n: int) -> None:
    for start in range(0, n, 20):
        async with services.transaction() as db:
            for i in range(start, min(start + 20, n)):
                await services.ledger.append(db, "api.test", {"i": i}, subject=f"s:{i % 3}")


class Auditor:
    """Trusts only the pinned verifier key and origin; everything else comes over the API."""

    def __init__(self, client: Client, key: str, origin: str) -> None:
        self.client = client
        self.verifier = Verifier.from_key_string(key)
        self.origin = origin

    async def checkpoint(self) -> Checkpoint:
        response = await self.client.get(f"{API}/checkpoint")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        return open_checkpoint(response.text, self.verifier, self.origin)

    async def leaves(self, size: int) -> list[bytes]:
        """Every leaf hash, each recomputed from its canonical body (pages of at most 1,000)."""
        leaves: list[bytes] = []
        while len(leaves) < size:
            start = len(leaves)
            response = await self.client.get(
                f"{API}/entries", params={"start": start, "end": min(start + 1000, size)}
            )
            assert response.status_code == 200, response.text
            for entry in response.json():
                assert entry["index"] == len(leaves)
                body = entry["body"]
                assert body["index"] == entry["index"]
                assert (body["kind"], body["subject"]) == (entry["kind"], entry["subject"])
                leaf = merkle.leaf_hash(rfc8785.dumps(body))
                assert leaf == b64d(entry["leaf_hash"])
                leaves.append(leaf)
        return leaves

    async def check_inclusion(self, leaf: bytes, index: int, cp: Checkpoint) -> None:
        response = await self.client.get(f"{API}/proof/inclusion", params={"index": index, "size": cp.size})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["index"], body["size"], b64d(body["root"])) == (index, cp.size, cp.root)
        proof = [b64d(p) for p in body["proof"]]
        assert merkle.verify_inclusion(leaf, index, cp.size, proof, cp.root)

    async def check_consistency(self, old: Checkpoint, new: Checkpoint) -> None:
        response = await self.client.get(
            f"{API}/proof/consistency", params={"first": old.size, "second": new.size}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["first"], body["size"]) == (old.size, new.size)
        assert (b64d(body["first_root"]), b64d(body["root"])) == (old.root, new.root)
        proof = [b64d(p) for p in body["proof"]]
        assert merkle.verify_consistency(old.size, new.size, proof, old.root, new.root)


async def auditor(client: Client, services: Services) -> Auditor:
    response = await client.get(f"{API}/key")
    assert response.status_code == 200
    assert response.text == services.ledger.verifier.key_string() + "\n"
    return Auditor(client, response.text.strip(), services.settings.ledger_origin)


async def test_auditor_walkthrough(client: Client, services: Services) -> None:
    await append_many(services, 70)
    who = await auditor(client, services)
    old = await who.checkpoint()
    assert old.size >= 70
    old_leaves = await who.leaves(old.size)
    assert merkle.root_of(old_leaves) == old.root
    for index in sorted({0, 1, old.size // 2, old.size - 2, old.size - 1}):
        await who.check_inclusion(old_leaves[index], index, old)

    await append_many(services, 1100 - old.size)  # past one page of entries
    new = await who.checkpoint()
    assert new.size == 1100
    leaves = await who.leaves(new.size)
    assert leaves[: old.size] == old_leaves
    assert merkle.root_of(leaves) == new.root
    for index in (0, old.size, 511, 512, 1023, 1024, new.size - 1):
        await who.check_inclusion(leaves[index], index, new)
    await who.check_consistency(old, new)
    for first in (1, 2, 512, 1024, 1099, 1100):
        cp = Checkpoint(new.origin, first, merkle.root_of(leaves[:first]))
        await who.check_consistency(cp, new)

    # Defaults: the current tree.
    response = await client.get(f"{API}/proof/inclusion", params={"index": 7})
    assert response.json()["size"] == new.size
    response = await client.get(f"{API}/proof/consistency", params={"first": old.size})
    assert (response.json()["size"], b64d(response.json()["root"])) == (new.size, new.root)
    response = await client.get(f"{API}/entries", params={"start": new.size - 3})
    assert [e["index"] for e in response.json()] == [new.size - 3, new.size - 2, new.size - 1]
    response = await client.get(f"{API}/entries", params={"start": new.size + 5, "end": new.size + 10})
    assert (response.status_code, response.json()) == (200, [])
    # Near the largest id the databases store: an empty page, not a driver overflow.
    response = await client.get(f"{API}/entries", params={"start": 2**63 - 2})
    assert (response.status_code, response.json()) == (200, [])


async def test_stored_checkpoints(client: Client, services: Services) -> None:
    await append_many(services, 5)
    for reason in ("tender published", "bids opened"):
        await append_many(services, 3)
        async with services.transaction() as db:
            await services.ledger.checkpoint(db, reason)
    who = await auditor(client, services)
    response = await client.get(f"{API}/checkpoints")
    assert response.status_code == 200
    rows = response.json()
    assert [r["reason"] for r in rows] == ["bids opened", "tender published"]  # newest first
    for row in rows:
        cp = open_checkpoint(row["note"], who.verifier, who.origin)
        assert (cp.size, cp.root) == (row["size"], b64d(row["root"]))
    await who.check_consistency(
        open_checkpoint(rows[1]["note"], who.verifier, who.origin),
        open_checkpoint(rows[0]["note"], who.verifier, who.origin),
    )
    response = await client.get(f"{API}/checkpoints", params={"limit": 1, "offset": 1})
    assert [r["reason"] for r in response.json()] == ["tender published"]


HUGE = str(10**30)
U64 = str(2**64)

BAD_REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("entries", {"start": -1}),
    ("entries", {"start": "abc"}),
    ("entries", {"start": "1.5"}),
    ("entries", {"start": 0, "end": 0}),
    ("entries", {"start": 5, "end": 5}),
    ("entries", {"start": 9, "end": 3}),
    ("entries", {"start": 0, "end": 1001}),
    ("entries", {"start": HUGE}),
    ("entries", {"start": U64}),
    ("entries", {"start": str(2**63)}),
    ("entries", {"start": 0, "end": str(2**63)}),
    ("entries", {"start": 0, "end": HUGE}),
    ("entries", {"start": HUGE, "end": HUGE + "1"}),
    ("checkpoints", {"limit": 0}),
    ("checkpoints", {"limit": 101}),
    ("checkpoints", {"offset": -1}),
    ("checkpoints", {"offset": HUGE}),
    ("checkpoints", {"limit": HUGE}),
    ("proof/inclusion", {}),
    ("proof/inclusion", {"index": -1}),
    ("proof/inclusion", {"index": "x"}),
    ("proof/inclusion", {"index": HUGE}),
    ("proof/inclusion", {"index": U64}),
    ("proof/inclusion", {"index": 10}),  # == size
    ("proof/inclusion", {"index": 11, "size": 10}),
    ("proof/inclusion", {"index": 4, "size": 4}),
    ("proof/inclusion", {"index": 0, "size": 0}),
    ("proof/inclusion", {"index": 0, "size": 11}),
    ("proof/inclusion", {"index": 0, "size": HUGE}),
    ("proof/inclusion", {"index": 0, "size": U64}),
    ("proof/inclusion", {"index": 0, "size": "-5"}),
    ("proof/consistency", {}),
    ("proof/consistency", {"first": 0}),
    ("proof/consistency", {"first": -3}),
    ("proof/consistency", {"first": "1e3"}),
    ("proof/consistency", {"first": 11}),
    ("proof/consistency", {"first": 5, "second": 4}),
    ("proof/consistency", {"first": 1, "second": 11}),
    ("proof/consistency", {"first": 1, "second": 0}),
    ("proof/consistency", {"first": HUGE, "second": HUGE}),
    ("proof/consistency", {"first": 1, "second": U64}),
]


@pytest.mark.parametrize(("path", "params"), BAD_REQUESTS, ids=[f"{p}-{q}" for p, q in BAD_REQUESTS])
async def test_malformed_requests_get_problem_details(
    client: Client, services: Services, path: str, params: dict[str, Any]
) -> None:
    await append_many(services, 10 - await ledger_size(services))
    response = await client.get(f"{API}/{path}", params=params)
    assert response.status_code in (400, 422), (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == response.status_code
    assert problem["type"].startswith("urn:tenderhall:problem:")
    assert problem["title"]
    assert problem["detail"]


async def ledger_size(services: Services) -> int:
    async with services.sessionmaker() as db:
        return (await services.ledger.tree_head(db))[0]


async def test_empty_ledger(client: Client, services: Services) -> None:
    if await ledger_size(services):
        pytest.skip("the app appended events at start-up; nothing to check for an empty ledger")
    who = await auditor(client, services)
    cp = await who.checkpoint()
    assert (cp.size, cp.root) == (0, merkle.EMPTY_ROOT)
    response = await client.get(f"{API}/proof/inclusion", params={"index": 0})
    assert response.status_code == 422
    response = await client.get(f"{API}/proof/consistency", params={"first": 1})
    assert response.status_code == 422
