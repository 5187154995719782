"""The opening hall page: what a participant's browser gets (the snapshot, every label from the
catalogues in the chosen language, the script that keeps it live), and what others do not."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest

from bidding.pages import LABELS
from tenderhall.i18n import LOCALES, catalogue
from tests.bidding.helpers import file_key_b64, make_scene, seal_and_submit

HTML = {"accept": "text/html"}


def embedded(page: str, name: str) -> dict:
    """The JSON the page hands its script in a data attribute of the hall (``data-snapshot``)."""
    found = re.search(rf'<div id="hall"[^>]* data-{name}="([^"]*)"', page)
    assert found, name
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.parametrize("locale", LOCALES)
def test_every_label_is_translated(locale: str) -> None:
    assert [k for k in LABELS if k not in catalogue(locale)] == []


async def test_participants_watch_the_hall(client, world, services, clock) -> None:
    scene = await make_scene(services, world, client, bidders=2)
    blob = await seal_and_submit(client, scene, scene.bidders[0], "page-0")
    await seal_and_submit(client, scene, scene.bidders[1], "page-1")
    page = f"/tenders/{scene.tender_id}/hall"

    # While bidding is open there is no hall (hall.view starts at the deadline).
    clock.set(scene.deadline - timedelta(minutes=5))
    assert (await client.get(page, headers={**HTML, **scene.bidders[0].headers})).status_code == 404

    clock.set(scene.deadline + timedelta(minutes=1))
    r = await client.get(page, headers={**HTML, **scene.bidders[0].headers})
    assert r.status_code == 200, r.text
    assert "开标大厅" in r.text
    assert '<script src="/static/hall.js"></script>' in r.text
    snap = embedded(r.text, "snapshot")
    assert snap["phase"] == "decrypting"
    assert snap["seconds_left_in_window"] == 29 * 60
    assert embedded(r.text, "labels")["hall.phase.decrypting"] == "投标人解密"

    key = {"file_key": file_key_b64(blob, scene.bidders[0].keys.opening)}
    hall = f"/api/v1/tenders/{scene.tender_id}/hall"
    assert (
        await client.post(f"{hall}/bids/page-0/key", json=key, headers=scene.bidders[0].headers)
    ).status_code == 201
    r = await client.get(page, headers={**HTML, **world.auth("staff"), "cookie": "th_lang=en"})
    assert r.status_code == 200, r.text
    snap = embedded(r.text, "snapshot")
    assert snap["phase"] == "decrypting"
    assert {b["bid"]: b["status"] for b in snap["bids"]} == {"page-0": "decrypted", "page-1": "sealed"}
    assert embedded(r.text, "labels")["hall.status.sealed"] == "sealed"
    assert "Opening hall" in r.text
    assert 'data-can-run="true"' in r.text  # staff of the tender's centre run the hall
    as_bidder = await client.get(page, headers={**HTML, **scene.bidders[1].headers})
    assert 'data-can-run="false"' in as_bidder.text
    assert 'data-can-respond="true"' in as_bidder.text  # its bid is in the hall
    # The bid content never reaches the page before the record: no price, no form.
    assert "980000" not in r.text

    # The tender page links to the hall for signed-in users.
    tender = await client.get(f"/tenders/{scene.tender_id}", headers={**HTML, **scene.bidders[1].headers})
    assert f'href="/tenders/{scene.tender_id}/hall"' in tender.text

    script = await client.get("/static/hall.js")
    assert script.status_code == 200
    assert "EventSource" in script.text
    assert "/hall/events" in script.text


async def test_outsiders_get_no_hall(client, world, services, clock) -> None:
    scene = await make_scene(services, world, client, bidders=1)
    await seal_and_submit(client, scene, scene.bidders[0], "x-0")
    clock.set(scene.deadline + timedelta(minutes=1))
    page = f"/tenders/{scene.tender_id}/hall"
    for headers in (world.auth("bidder_other"), world.auth("expert"), {}):  # not registered, no seat, nobody
        r = await client.get(page, headers={**HTML, **headers})
        assert r.status_code in (401, 403, 404), (headers, r.status_code)
        assert "data-snapshot" not in r.text


async def test_a_hostile_objection_stays_text(client, world, services, clock) -> None:
    """An objection is a bidder's free text shown to every participant: inside the page's JSON
    (an attribute value) it can neither close the element, nor open a script or a comment."""
    scene = await make_scene(services, world, client, bidders=1)
    blob = await seal_and_submit(client, scene, scene.bidders[0], "h-0")
    hall = f"/api/v1/tenders/{scene.tender_id}/hall"
    clock.set(scene.deadline + timedelta(minutes=1))
    key = {"file_key": file_key_b64(blob, scene.bidders[0].keys.opening)}
    assert (
        await client.post(f"{hall}/bids/h-0/key", json=key, headers=scene.bidders[0].headers)
    ).status_code == 201
    assert (await client.post(f"{hall}/record", headers=world.auth("staff"))).status_code == 201
    hostile = '报价有误</script><script>alert("x")</script><!--<script>'
    r = await client.post(
        f"{hall}/record/objections", json={"text": hostile}, headers=scene.bidders[0].headers
    )
    assert r.status_code == 201, r.text

    page = await client.get(f"/tenders/{scene.tender_id}/hall", headers={**HTML, **world.auth("staff")})
    assert page.status_code == 200
    assert "</script><script>" not in page.text
    assert "<!--" not in page.text
    snap = embedded(page.text, "snapshot")
    assert [x["text"] for x in snap["responses"]] == [hostile]


async def test_the_page_flags_a_price_above_the_ceiling(client, world, services, clock) -> None:
    scene = await make_scene(services, world, client, bidders=1)
    blob = await seal_and_submit(client, scene, scene.bidders[0], "over", price="1200000")
    clock.set(scene.deadline + timedelta(minutes=1))
    hall = f"/api/v1/tenders/{scene.tender_id}/hall"
    key = {"file_key": file_key_b64(blob, scene.bidders[0].keys.opening)}
    assert (
        await client.post(f"{hall}/bids/over/key", json=key, headers=scene.bidders[0].headers)
    ).status_code == 201
    assert (await client.post(f"{hall}/record", headers=scene.staff)).status_code == 201
    r = await client.get(f"/tenders/{scene.tender_id}/hall", headers={**HTML, **scene.bidders[0].headers})
    record = embedded(r.text, "snapshot")["record"]
    assert record["ceiling"] == "1000000.00"
    assert record["bids"][0]["above_ceiling"] is True
    labels = embedded(r.text, "labels")
    assert labels["hall.page.ceiling"] == "最高投标限价"
    assert "第五十一条" in labels["hall.page.above_ceiling"]
    script = (await client.get("/static/hall.js")).text
    assert "b.above_ceiling" in script
    assert "record.ceiling" in script
