// An auto-dialer list's page (Q1) follows the list live: while it may still change (ready,
// running, paused, or a call under way) it asks the same page as JSON every few seconds and
// updates the status, the progress (called, answered, to dial, skipped), the number being
// called, the buttons that apply and each number's state and result, without a reload.
(function () {
  "use strict";
  const box = document.getElementById("dialer-list");
  if (!box) return;
  const EVERY_MS = 2000;
  const $ = (selector) => document.querySelector(selector);

  function resultCell(cell, entry) {
    cell.replaceChildren(entry.result_label || "");
    if (entry.reason) {
      const why = document.createElement("span");
      why.className = "muted";
      why.textContent = `(${entry.reason})`;
      cell.append(" ", why);
    }
    if (entry.call_url) {
      const link = document.createElement("a");
      link.href = entry.call_url;
      link.textContent = box.dataset.tCall;
      cell.append(" · ", link);
    }
  }

  function show(list) {
    box.dataset.status = list.status;
    $("#dialer-status").dataset.status = list.status;
    $("#dialer-status-label").textContent = list.status_label;
    $("#dialer-progress").textContent = list.progress;
    const dialing = $("#dialer-dialing");
    dialing.hidden = !list.dialing;
    dialing.querySelector("span").textContent = list.dialing
      ? `${list.dialing.name || ""} ${list.dialing.number}`.trim() : "";
    box.querySelectorAll("button[data-applies]").forEach((button) => {
      button.disabled = !button.dataset.applies.split(" ").includes(list.status);
    });
    for (const entry of list.entries) {
      const row = box.querySelector(`tr[data-entry="${entry.id}"]`);
      if (!row || (row.dataset.state === entry.state && row.dataset.result === entry.result
                   && row.dataset.call === String(entry.call_id || ""))) continue;
      row.dataset.state = entry.state;
      row.dataset.result = entry.result;
      row.dataset.call = String(entry.call_id || "");
      row.querySelector(".dialer-state").textContent = entry.state_label;
      resultCell(row.querySelector(".dialer-result"), entry);
    }
  }

  async function poll() {
    if (document.hidden) return true;
    const response = await fetch(location.pathname + location.search, {
      credentials: "same-origin", headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(String(response.status));
    const list = await response.json();
    show(list);
    return list.is_live;
  }

  async function loop() {
    let live = box.dataset.live === "1";
    while (live) {
      await new Promise((resolve) => setTimeout(resolve, EVERY_MS));
      try {
        live = await poll();
        $("#dialer-live").textContent = live ? box.dataset.tLive : "";
      } catch (err) {
        $("#dialer-live").textContent = box.dataset.tOffline;  // tried again next round
      }
    }
  }
  loop();
})();
