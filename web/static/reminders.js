// Task reminders (T3) on every open page: the server sends one over /ws when a task's reminder
// time comes (web/views/live_reminders.py), to each open page of the assignee; a page opened
// later gets the recent ones again and shows only those this browser has not shown yet.
// widget_popups.js adds the handler; the notice goes in the same column as the call pop-ups.
"use strict";

window.centralitaReminders = ({ el, popups }) => {
  const SEEN = "crm.reminders.seen"; // key -> when shown, in this browser
  const NOTIFIED = "crm.reminders.notified"; // key -> when a browser notification was raised
  const KEEP_MS = 2 * 24 * 3600 * 1000;

  function load(name) {
    try { return JSON.parse(localStorage.getItem(name) || "{}"); } catch (err) { return {}; }
  }
  // Marks a key in a map; returns false if it was marked already (another page got there first).
  function mark(name, key) {
    const all = load(name);
    if (all[key]) return false;
    const now = Date.now();
    Object.keys(all).forEach((k) => { if (now - all[k] > KEEP_MS) delete all[k]; });
    all[key] = now;
    try { localStorage.setItem(name, JSON.stringify(all)); } catch (err) { /* private mode: no memory */ }
    return true;
  }

  const permission = () => (typeof window.Notification === "function" ? Notification.permission : "");

  function notify(msg) {
    if (permission() !== "granted") return;
    // One notification per reminder however many pages are open (the tag merges any race).
    if (!mark(NOTIFIED, msg.key)) return;
    const body = [msg.when, msg.about].filter(Boolean).join(" · ");
    const note = new Notification(`⏰ ${msg.title}`, { body, tag: `crm-reminder-${msg.key}` });
    note.addEventListener("click", () => { window.focus(); location.assign(msg.url); });
  }

  // Browsers ask for the permission only on a click: the notice offers it while undecided.
  function allowButton(msg) {
    if (permission() !== "default") return null;
    const button = el("button", { type: "button", class: "link cw-reminder-allow" }, msg.labels.allow);
    button.addEventListener("click", () => {
      Promise.resolve(Notification.requestPermission()).then((answer) => {
        if (answer !== "default") button.remove();
      });
    });
    return button;
  }

  function notice(msg) {
    const pop = el("article", { class: "cw-popup cw-reminder", role: "alert" });
    pop.dataset.key = msg.key;
    pop.dataset.taskId = String(msg.task_id);
    const close = el("button", { type: "button", class: "cw-pop-close link", "aria-label": msg.labels.close, title: msg.labels.close }, "×");
    close.addEventListener("click", () => pop.remove());
    const header = el("header");
    header.append(el("strong", { class: "cw-pop-state" }, `⏰ ${msg.heading}`), close);
    const inner = el("div", { class: "cw-pop-body" });
    inner.append(el("a", { class: "cw-pop-name", href: msg.url, title: msg.labels.open }, msg.title));
    if (msg.about) inner.append(el("span", { class: "muted cw-reminder-about" }, msg.about));
    inner.append(el("span", { class: "cw-reminder-when" }, msg.when));
    const allow = allowButton(msg);
    if (allow) inner.append(allow);
    pop.append(header, inner);
    popups.prepend(pop);
  }

  return {
    reminder(msg) {
      if (popups.querySelector(`.cw-reminder[data-key="${CSS.escape(msg.key)}"]`)) return;
      const first = mark(SEEN, msg.key);
      if (msg.replay && !first) return; // shown before in this browser
      notice(msg);
      notify(msg);
    },
  };
};
