"""The command-line client names tenders by reference number: ``bid register SH-2026-0001`` (报名),
``bid seal --tender SH-2026-0001``; a bid submitted before registering is refused with what to do
next, on one line, in the user's language; an unknown reference and a hidden draft's read alike."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from bidding.client.cli import bid
from tenderhall.auth.roles import Role
from tests.bidding import test_cli_e2e
from tests.bidding.helpers import make_scene
from tests.support.tenders import draft_tender

ENGLISH = {"LANG": "en_US.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
live_url = test_cli_e2e.live_url  # the live server on loopback
CHINESE = {"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}


def run(args: list[str], *, ok: bool = True, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(bid, args, catch_exceptions=False, env=env or ENGLISH)
    assert (result.exit_code == 0) is ok, result.output
    return result.output


async def test_register_seal_and_submit_by_reference(
    services, world, client, clock, live_url: str, tmp_path: Path
) -> None:
    scene = await make_scene(services, world, client, bidders=1)  # company 0 registered
    ref = (await client.get(f"/api/v1/tenders/{scene.tender_id}")).json()["reference"]
    base = [
        "--server",
        live_url,
        "--token",
        world.tokens["bidder_other"],  # company 1: not registered
        "--home",
        str(tmp_path / "home"),
        "--keys",
        str(tmp_path / "keys"),
    ]
    run([*base, "keygen"])
    assert "registered key" in run([*base, "register-keys"])
    form = tmp_path / "form.json"
    form.write_text(
        json.dumps({"price": "950000", "duration_days": 200, "quality": "合格", "project_manager": "王工"}),
        encoding="utf-8",
    )
    doc = tmp_path / "技术标.txt"
    doc.write_text("施工组织设计\n", encoding="utf-8")
    package = tmp_path / "bid.zip"
    run([*base, "pack", "--form", str(form), "--out", str(package), str(doc)])
    envelope = tmp_path / "bid.age"
    assert "sealed" in run(
        [*base, "seal", "--tender", ref, "--package", str(package), "--out", str(envelope)]
    )
    sidecar = json.loads((tmp_path / "bid.age.json").read_text())
    assert sidecar["tender"] == str(scene.tender_id)
    assert sidecar["reference"] == ref

    # Not registered: refused, saying what to do next, on one line.
    refused = run([*base, "submit", str(envelope)], ok=False)
    assert f"Register for {ref} first" in refused
    assert f"tenderhall bid register {ref}" in refused
    assert "(error.register_first)" in refused
    errors = [line for line in refused.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    assert errors[0].endswith("(error.register_first)")
    assert f"请先为项目 {ref} 报名" in run([*base, "submit", str(envelope)], ok=False, env=CHINESE)

    # 报名 by reference (lower case too), once.
    out = run([*base, "register", ref.lower()])
    assert f"registered for {ref}" in out
    assert "Beijing time (UTC+8)" in out
    assert "already registered" in run([*base, "register", ref])
    registrations = await client.get(
        f"/api/v1/tenders/{ref}/registrations", headers=world.auth("bidder_other")
    )
    assert len(registrations.json()) == 1
    assert "accepted at" in run([*base, "submit", str(envelope)])

    assert "name the tender" in run([*base, "register"], ok=False)

    # A draft of another organisation's reads exactly as a reference that names nothing.
    async with services.transaction() as db:
        draft = await draft_tender(
            services,
            db,
            world.who("tenderer_other"),
            title="保密草稿",
            estimate_fen=100_000_00,
            tenderer_id=world.tenderers[1].id,
            centre_id=world.centres[0].id,
            rubric={
                "price_method": "lowest_price",
                "items": [{"code": "P", "name": "价格", "kind": "price", "max_points": "100"}],
            },
        )
    unknown = draft.reference[:-4] + "9999"
    hidden = run([*base, "register", draft.reference], ok=False)
    absent = run([*base, "register", unknown], ok=False)
    assert hidden.replace(draft.reference, unknown) == absent
    assert "(error.not_found)" in hidden
    assert "保密草稿" not in hidden
    assert "(error.not_found)" in run(
        [
            *base,
            "seal",
            "--tender",
            draft.reference,
            "--package",
            str(package),
            "--out",
            str(tmp_path / "x.age"),
        ],
        ok=False,
    )

    # After the deadline, registration is closed, and the client says so.
    async with services.transaction() as db:
        user = await services.accounts.create_user(
            db,
            username="late.bidder",
            password="correct-horse-battery",
            role=Role.BIDDER,
            display_name="late",
            region_id=world.region.id,
            company_id=world.companies[2].id,
        )
        _, token = await services.accounts.create_token(db, user, "tests", None)
    clock.set(scene.deadline + timedelta(seconds=1))
    late = run(
        ["--server", live_url, "--token", token, "--home", str(tmp_path / "late"), "register", ref], ok=False
    )
    assert f"Registration for {ref} is closed (the tender is closed)" in late
