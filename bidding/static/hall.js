// The opening hall, live: renders the hall snapshot (GET /api/v1/tenders/{id}/hall) and re-renders
// on each server-sent event. Every label comes from the page (the server's catalogues).
(function () {
  "use strict";
  const root = document.getElementById("hall");
  if (!root) return;
  const L = JSON.parse(document.getElementById("hall-labels").textContent);
  const label = (key, fallback) => L[key] || fallback || key;
  const $ = (id) => document.getElementById(id);
  let snap = JSON.parse(document.getElementById("hall-snapshot").textContent);
  let receivedAt = Date.now();

  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined || text === "" ? "—" : String(text);
    if (cls) td.className = cls;
    return td;
  }
  function head(table, keys) {
    const tr = document.createElement("tr");
    for (const k of keys) {
      const th = document.createElement("th");
      th.textContent = label(k);
      tr.appendChild(th);
    }
    table.tHead.replaceChildren(tr);
  }
  function rows(table, items, make) {
    const body = table.tBodies[0];
    body.replaceChildren();
    if (!items.length) {
      const tr = document.createElement("tr");
      const td = cell(label("hall.page.none"), "muted");
      td.colSpan = table.tHead.rows[0].cells.length;
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    for (const item of items) {
      const tr = document.createElement("tr");
      for (const td of make(item)) tr.appendChild(td);
      body.appendChild(tr);
    }
  }
  function duration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return (h ? h + ":" : "") + pad(m) + ":" + pad(r);
  }
  function money(value) {
    const n = Number(value);
    return Number.isFinite(n) ? "¥" + n.toLocaleString("zh-CN", { minimumFractionDigits: 2 }) : value;
  }

  function tick() {
    const gone = (Date.now() - receivedAt) / 1000;
    let text = "";
    if (snap.phase === "waiting" && snap.seconds_to_opening !== null && snap.seconds_to_opening !== undefined) {
      text = label("hall.page.opening_in") + " " + duration(snap.seconds_to_opening - gone);
    } else if (snap.phase === "decrypting" && snap.seconds_left_in_window !== undefined) {
      text = label("hall.page.window_left") + " " + duration(snap.seconds_left_in_window - gone);
    } else if (snap.phase === "signing" && snap.sign_deadline) {
      text = label("hall.page.sign_deadline") + " " + new Date(snap.sign_deadline).toLocaleString();
    }
    $("hall-clock").textContent = text;
  }

  function render() {
    const phase = $("hall-phase");
    phase.textContent = label("hall.page.phase") + ": " + label("hall.phase." + snap.phase, snap.phase);
    phase.className = "state phase-" + snap.phase;
    $("hall-remedy").textContent = snap.remedy
      ? label("hall.page.remedy").replace("{k}", snap.remedy.k).replace("{n}", snap.remedy.n)
      : "";
    $("hall-bids-title").textContent = label("hall.page.bids");
    const bids = $("hall-bids");
    head(bids, ["hall.page.bid", "hall.page.company", "hall.page.status", "hall.page.via"]);
    rows(bids, snap.bids || [], (b) => [
      cell(b.bid, "ref"),
      cell(b.company),
      cell(label("hall.status." + b.status, b.status), "status-" + b.status),
      cell(b.via ? label("hall.via." + b.via, b.via) : ""),
    ]);
    const record = snap.record;
    $("hall-record").hidden = !record;
    $("hall-paused").hidden = !snap.paused;
    $("hall-paused").textContent = label("hall.page.paused");
    if (record) {
      $("hall-record-title").textContent = label("hall.page.record");
      $("hall-outcome").textContent =
        label("hall.page.valid_bids") + ": " + record.valid_bids +
        (snap.outcome ? " · " + label("hall.page.outcome." + snap.outcome, snap.outcome) : "");
      const table = $("hall-record-table");
      head(table, ["hall.page.bid", "hall.page.company", "hall.page.price", "hall.page.duration",
        "hall.page.quality", "hall.page.project_manager", "hall.page.valid"]);
      rows(table, record.bids || [], (b) => [
        cell(b.bid, "ref"), cell(b.company), cell(b.price ? money(b.price) : "", "num"),
        cell(b.duration_days, "num"), cell(b.quality), cell(b.project_manager),
        cell(label(b.valid ? "hall.page.yes" : "hall.page.no")),
      ]);
      $("hall-responses-title").textContent = label("hall.page.responses");
      const responses = $("hall-responses");
      head(responses, ["hall.page.company", "hall.page.status", "hall.page.answer"]);
      rows(responses, snap.responses || [], (r) => [
        cell(r.company_name || r.company),
        cell(label("hall.response." + r.kind, r.kind) + (r.text ? ": " + r.text : "")),
        cell(r.answer),
      ]);
    }
    tick();
  }

  render();
  setInterval(tick, 1000);
  if (window.EventSource) {
    const source = new EventSource("/api/v1/tenders/" + root.dataset.tender + "/hall/events");
    source.addEventListener("hall", (event) => {
      snap = JSON.parse(event.data);
      receivedAt = Date.now();
      $("hall-live").textContent = "● " + label("hall.page.live");
      render();
    });
    source.onerror = () => { $("hall-live").textContent = label("hall.page.reconnecting"); };
  }
})();
