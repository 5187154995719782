"""The ledger evidence bundle: built from the real ledger, verified offline, and every edit caught."""

from __future__ import annotations

import json
import uuid

from archive.evidence import ATTACHMENT, FORMAT, ledger_evidence, verify_evidence
from tenderhall.ledger.note import Signer
from tenderhall.services import Services
from tests.archive.conftest import tender_events


async def _evidence(services: Services, tender: uuid.UUID) -> bytes:
    async with services.reader() as db:
        return await ledger_evidence(db, services, tender)


async def test_evidence_holds_the_tenders_events_with_proofs(services: Services) -> None:
    tender = await tender_events(services, count=5)
    data = await _evidence(services, tender)
    value = json.loads(data)
    assert value["format"] == FORMAT
    assert ATTACHMENT == "ledger-evidence.json"
    assert [json.loads(e["body"])["subject"] for e in value["entries"]] == [f"tender:{tender}"] * 5
    # Only this tender's events, each at its own index, interleaved with another tender's.
    assert [e["index"] for e in value["entries"]] == [1, 3, 5, 7, 9]
    report = verify_evidence(data, services.ledger.verifier)
    assert report.ok, report.problem
    assert report.entries == 5
    assert report.checkpoint is not None
    assert report.checkpoint.size >= 10


async def test_an_edited_entry_is_named(services: Services) -> None:
    tender = await tender_events(services, count=3)
    value = json.loads(await _evidence(services, tender))
    victim = value["entries"][1]
    event = json.loads(victim["body"])
    # Re-canonicalised after the edit, so only the proof can catch it.
    event["data"]["i"] = 99
    victim["body"] = json.dumps(event, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    report = verify_evidence(json.dumps(value).encode(), services.ledger.verifier)
    assert report.problem == "archive.evidence.entry_not_included"
    assert report.params == {"index": victim["index"]}


async def test_a_non_canonical_edit_and_a_moved_entry_are_caught(services: Services) -> None:
    tender = await tender_events(services, count=3)
    value = json.loads(await _evidence(services, tender))
    value["entries"][0]["body"] = value["entries"][0]["body"].replace('{"actor"', '{ "actor"')
    report = verify_evidence(json.dumps(value).encode(), services.ledger.verifier)
    assert report.problem == "archive.evidence.entry_not_canonical"

    value = json.loads(await _evidence(services, tender))
    value["entries"][0]["index"] = value["entries"][0]["index"] - 1
    report = verify_evidence(json.dumps(value).encode(), services.ledger.verifier)
    assert report.problem == "archive.evidence.entry_index"


async def test_another_key_or_a_forged_checkpoint_fails(services: Services) -> None:
    tender = await tender_events(services, count=2)
    data = await _evidence(services, tender)
    stranger = Signer.generate(services.ledger.origin).verifier()
    assert verify_evidence(data, stranger).problem == "archive.evidence.checkpoint_signature"
    value = json.loads(data)
    lines = value["checkpoint"].split("\n")
    lines[1] = str(int(lines[1]) + 1)  # claim a larger tree under the same signature
    value["checkpoint"] = "\n".join(lines)
    report = verify_evidence(json.dumps(value).encode(), services.ledger.verifier)
    assert report.problem == "archive.evidence.checkpoint_signature"


async def test_garbage_is_refused_without_a_crash(services: Services) -> None:
    for junk in (b"", b"{", b"[]", b'{"format": "x"}', json.dumps({"format": FORMAT}).encode(), b"\xff" * 10):
        report = verify_evidence(junk, services.ledger.verifier)
        assert report.problem == "archive.evidence.malformed"
