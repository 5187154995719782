// The opening hall, live: renders the hall snapshot (GET /api/v1/tenders/{id}/hall) and re-renders
// on each server-sent event. Every label comes from the page (the server's catalogues).
(function () {
  "use strict";
  const root = document.getElementById("hall");
  if (!root) return;
  // The snapshot and the labels come in the page's data attributes (no inline script: CSP).
  const L = JSON.parse(root.dataset.labels);
  const label = (key, fallback) => L[key] || fallback || key;
  const $ = (id) => document.getElementById(id);
  let snap = JSON.parse(root.dataset.snapshot);
  let receivedAt = Date.now();
  const canRun = root.dataset.canRun === "true";
  const canRespond = root.dataset.canRespond === "true";
  const api = "/api/v1/tenders/" + root.dataset.tender + "/hall";

  // Actions go through the API (the same checks as any client); the page re-renders on the event
  // the change announces. Errors are the API's problem details, shown as they come.
  async function act(path, body) {
    const message = $("hall-message");
    const r = await fetch(api + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": root.dataset.csrf },
      body: JSON.stringify(body || {}),
    });
    let detail = "";
    if (!r.ok) {
      try { detail = (await r.json()).detail; } catch (e) { detail = r.statusText; }
    }
    message.hidden = false;
    message.className = r.ok ? "muted" : "error";
    message.textContent = r.ok ? label("hall.action.done") : detail;
    if (r.ok) {
      const fresh = await fetch(api + "/", { credentials: "same-origin" });
      if (fresh.ok) { snap = await fresh.json(); receivedAt = Date.now(); render(); }
    }
    return r.ok;
  }
  function button(text, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.addEventListener("click", async () => { b.disabled = true; try { await onClick(); } finally { b.disabled = false; } });
    return b;
  }

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
      text = label("hall.page.sign_deadline") + " " + new Date(snap.sign_deadline).toLocaleString(document.documentElement.lang, { timeZone: "Asia/Shanghai" });
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
        (record.ceiling ? " · " + label("hall.page.ceiling") + ": " + money(record.ceiling) : "") +
        (snap.outcome ? " · " + label("hall.page.outcome." + snap.outcome, snap.outcome) : "");
      const table = $("hall-record-table");
      head(table, ["hall.page.bid", "hall.page.company", "hall.page.price", "hall.page.duration",
        "hall.page.quality", "hall.page.project_manager", "hall.page.valid", "hall.page.remark"]);
      rows(table, record.bids || [], (b) => [
        cell(b.bid, "ref"), cell(b.company), cell(b.price ? money(b.price) : "", "num"),
        cell(b.duration_days, "num"), cell(b.quality), cell(b.project_manager),
        cell(label(b.valid ? "hall.page.yes" : "hall.page.no")),
        // A price above the ceiling is read out as it is; the committee must reject it (第五十一条).
        b.above_ceiling ? cell(label("hall.page.above_ceiling"), "error") : cell(""),
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
    renderActions();
    tick();
  }

  function renderActions() {
    const box = $("hall-actions");
    box.replaceChildren();
    // In the custodian phase staff may also end the fallback: bids still sealed are then
    // classified by the cause recorded (第三十一条).
    if (canRun && (snap.phase === "ready" || snap.phase === "custodians")) {
      box.appendChild(button(label("hall.action.publish"), () => act("/record")));
    }
    if (canRun && snap.phase === "signing") {
      box.appendChild(button(label("hall.action.finish"), () => act("/finish")));
    }
    if (canRun && snap.phase === "custodians") {
      for (const b of (snap.bids || []).filter((x) => x.status === "sealed")) {
        const span = document.createElement("span");
        span.textContent = b.bid + " " + label("hall.action.cause") + ": ";
        span.appendChild(button(label("hall.action.cause_bidder"), () => act("/bids/" + encodeURIComponent(b.bid) + "/cause", { cause: "bidder" })));
        span.appendChild(button(label("hall.action.cause_other"), () => act("/bids/" + encodeURIComponent(b.bid) + "/cause", { cause: "other" })));
        box.appendChild(span);
      }
    }
    if (canRun && snap.responses) {
      for (const r of snap.responses.filter((x) => x.kind === "objection" && !x.answer)) {
        const wrap = document.createElement("div");
        const text = document.createElement("textarea");
        text.rows = 2;
        text.maxLength = 2000;
        text.placeholder = label("hall.page.answer_placeholder") + " — " + (r.company_name || "") + ": " + (r.text || "");
        wrap.appendChild(text);
        wrap.appendChild(button(label("hall.action.answer"), () => act("/objections/" + r.id + "/answer", { text: text.value })));
        box.appendChild(wrap);
      }
    }
    const respond = $("hall-respond");
    respond.hidden = !(canRespond && snap.phase === "signing");
    $("hall-sign-hint").textContent = label("hall.page.sign_hint");
    $("hall-objection").placeholder = label("hall.page.objection_placeholder");
    $("hall-object").textContent = label("hall.action.object");
  }

  $("hall-object").addEventListener("click", async () => {
    if (await act("/record/objections", { text: $("hall-objection").value })) $("hall-objection").value = "";
  });

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
