"""Done means: the command-line client against a live server on loopback — keygen, register,
pack, seal, check, submit, resubmit, withdraw, receipt verify, late refusal, decrypt at opening,
custodians releasing shares for an absent bidder, the record signed and objected to."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from click.testing import CliRunner

from bidding.client.cli import bid, release_share
from tests.bidding.helpers import make_scene, seal_and_submit


@pytest.fixture
def live_url(app) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def run(args: list[str], *, ok: bool = True) -> str:
    result = CliRunner().invoke(bid, args, catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code != 0, result.output
    return result.output


async def test_bidder_client_end_to_end(services, world, client, clock, live_url, tmp_path: Path) -> None:
    scene = await make_scene(services, world, client, bidders=3, custodians=2, k=2)
    tid = str(scene.tender_id)
    _b0, _b1, b2 = scene.bidders

    def base(who: int) -> list[str]:
        token = scene.bidders[who].headers["Authorization"].split()[1]
        return [
            "--server",
            live_url,
            "--token",
            token,
            "--home",
            str(tmp_path / f"home{who}"),
            "--keys",
            str(tmp_path / f"keys{who}"),
        ]

    vkey = services.ledger.verifier.key_string()
    form = tmp_path / "form.json"
    doc = tmp_path / "技术标.txt"
    doc.write_text("施工组织设计\n", encoding="utf-8")
    for who in (0, 1):
        assert "opening recipient: age1" in run([*base(who), "keygen"])
        assert (tmp_path / f"keys{who}" / "opening.key").stat().st_mode & 0o777 == 0o600
        assert "registered key" in run([*base(who), "register-keys"])
        form.write_text(
            json.dumps(
                {"price": f"9{who}0000", "duration_days": 200, "quality": "合格", "project_manager": "李工"}
            ),
            encoding="utf-8",
        )
        pkg = tmp_path / f"bid{who}.zip"
        run([*base(who), "pack", "--form", str(form), "--out", str(pkg), str(doc)])
        env = tmp_path / f"bid{who}.age"
        assert "2 custodian shares" in run(
            [
                *base(who),
                "seal",
                "--tender",
                tid,
                "--package",
                str(pkg),
                "--out",
                str(env),
                "--bid-id",
                f"cli{who}-v1",
            ]
        )
        assert "OK:" in run([*base(who), "check", str(env)])
        assert "accepted at" in run([*base(who), "submit", str(env)])
        receipt = tmp_path / f"bid{who}.age.receipt.json"
        assert "receipt OK" in run([*base(who), "receipt", "verify", str(receipt), "--ledger-key", vkey])
        # Submitting the same envelope again is idempotent: the same receipt.
        before = receipt.read_text()
        run([*base(who), "submit", str(env)])
        assert json.loads(receipt.read_text()) == json.loads(before)

    # b0 resubmits a new envelope (supersedes); b1 withdraws.
    env0 = tmp_path / "bid0-v2.age"
    run(
        [
            *base(0),
            "seal",
            "--tender",
            tid,
            "--package",
            str(tmp_path / "bid0.zip"),
            "--out",
            str(env0),
            "--bid-id",
            "cli0-v2",
        ]
    )
    run([*base(0), "submit", str(env0)])
    assert "withdrawn" in run([*base(1), "withdraw", str(tmp_path / "bid1.age")])
    env1 = tmp_path / "bid1-v2.age"
    run(
        [
            *base(1),
            "seal",
            "--tender",
            tid,
            "--package",
            str(tmp_path / "bid1.zip"),
            "--out",
            str(env1),
            "--bid-id",
            "cli1-v2",
        ]
    )
    run([*base(1), "submit", str(env1)])
    await seal_and_submit(client, scene, b2, "api2", price="930000")  # b2 will be absent

    # Late: refused.  Then opening: the two CLI bidders decrypt; b2 is absent.
    clock.set(scene.deadline)
    late = tmp_path / "late.age"
    run([*base(0), "seal", "--tender", tid, "--package", str(tmp_path / "bid0.zip"), "--out", str(late)])
    assert "bid.deadline_passed" in run([*base(0), "submit", str(late)], ok=False)
    for who, env in ((0, env0), (1, env1)):
        assert "decrypted" in run([*base(who), "decrypt", str(env)])
    clock.advance(timedelta(minutes=30, seconds=1))
    for c in scene.custodians:
        keys = tmp_path / f"cust-{c.name}"
        keys.mkdir()
        (keys / "opening.key").write_text(str(c.identity) + "\n")
        (keys / "opening.key").chmod(0o600)
        from bidding.client.keys import SIGNING_FILE

        (keys / SIGNING_FILE).write_text("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
        (keys / SIGNING_FILE).chmod(0o600)
        result = CliRunner().invoke(
            release_share,
            [
                "--tender",
                tid,
                "--server",
                live_url,
                "--token",
                c.headers["Authorization"].split()[1],
                "--keys",
                str(keys),
            ],
        )
        assert result.exit_code == 0, result.output
    assert "opened" in result.output
    r = await client.post(f"/api/v1/tenders/{tid}/hall/record", headers=scene.staff)
    assert r.status_code == 201, r.text
    assert r.json()["record"]["valid_bids"] == 3
    assert "signed" in run([*base(0), "record", "sign", "--tender", tid])
    assert "objection" in run([*base(1), "record", "object", "--tender", tid, "--text", "报价读错"])
    hall = (await client.get(f"/api/v1/tenders/{tid}/hall", headers=scene.staff)).json()
    assert {x["status"] for x in hall["bids"]} == {"decrypted"}
    assert {x["via"] for x in hall["bids"]} == {"bidder", "custodians"}
    assert hall["paused"] is True


async def test_seal_refuses_what_is_not_a_bid_package(
    services, world, client, clock, live_url, tmp_path: Path
) -> None:
    scene = await make_scene(services, world, client, bidders=1)
    tid = str(scene.tender_id)
    token = scene.bidders[0].headers["Authorization"].split()[1]
    base = [
        "--server",
        live_url,
        "--token",
        token,
        "--home",
        str(tmp_path / "h"),
        "--keys",
        str(tmp_path / "k"),
    ]
    run([*base, "keygen"])
    out = tmp_path / "sealed"
    out.mkdir()

    def seal(package: Path) -> str:
        return run(
            [*base, "seal", "--tender", tid, "--package", str(package), "--out", str(out / "bid.age")],
            ok=False,
        )

    # What `bid pack` left behind for an incomplete form before it wrote atomically: a 0-byte zip.
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    assert seal(empty) == f"Error: {empty} is not a valid bid package: the bid package is not a zip file\n"
    form = tmp_path / "form.json"
    form.write_text(
        json.dumps(
            {
                "price": "1",
                "duration_days": 1,
                "quality": "合格",
                "project_manager": "李工",
                "tender": "another",
            }
        )
    )
    other = tmp_path / "other.zip"
    run([*base, "pack", "--form", str(form), "--out", str(other)])
    assert "the bid form names another tender" in seal(other)
    assert list(out.iterdir()) == []  # no envelope, no sidecar
