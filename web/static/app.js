// Small helpers every page shares. Libraries (SortableJS) come from /static/vendor.
"use strict";

window.crm = {
  csrf() {
    return document.querySelector('meta[name="csrf-token"]').content;
  },
  // A state-changing fetch: JSON body, CSRF header, JSON answer or an Error with its message.
  async post(url, data) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRF-Token": crm.csrf(),
      },
      body: JSON.stringify(data || {}),
    });
    let body = {};
    try { body = await response.json(); } catch (e) { body = {}; }
    if (!response.ok) {
      // The server's own message is in the user's language; so is the page's fallback.
      throw new Error(body.error || document.body.dataset.tError);
    }
    return body;
  },
  // A toast: what a fetch()-driven action did (the server's message, in the user's language).
  // It stays a few seconds (errors longer) or until clicked.
  toast(text, kind) {
    if (!text) return;
    let box = document.getElementById("toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "toasts";
      box.className = "toasts";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    const toast = document.createElement("div");
    toast.className = "toast " + (kind || "ok");
    toast.textContent = text;
    toast.addEventListener("click", () => toast.remove());
    box.appendChild(toast);
    setTimeout(() => toast.remove(), kind === "error" ? 9000 : 4500);
  },
  notify(text, kind) {
    crm.toast(text, kind);
  },
};

document.addEventListener("click", (event) => {
  // "Add another" buttons of multi-value fields (phones, emails).
  const add = event.target.closest("[data-add-row]");
  if (add) {
    const list = document.getElementById(add.dataset.addRow);
    const row = list.querySelector(".row").cloneNode(true);
    row.querySelectorAll("input").forEach((input) => { input.value = ""; });
    list.appendChild(row);
    row.querySelector("input").focus();
    event.preventDefault();
  }
  // The section menu on a phone: folded behind the "Menu" button.
  const nav = event.target.closest("[data-toggle-nav]");
  if (nav) {
    const open = nav.closest(".sidebar").classList.toggle("open");
    nav.setAttribute("aria-expanded", open ? "true" : "false");
  }
  const toggle = event.target.closest("[data-toggle-filters]");
  if (toggle) {
    const box = document.querySelector(".with-filters");
    box.classList.toggle("collapsed");
    localStorage.setItem("filters-collapsed", box.classList.contains("collapsed") ? "1" : "0");
    event.preventDefault();
  }
});

document.addEventListener("DOMContentLoaded", () => {
  // Folded when the user folded them, and by default on a phone (the list comes first).
  const box = document.querySelector(".with-filters");
  const folded = localStorage.getItem("filters-collapsed");
  const phone = window.matchMedia("(max-width: 640px)").matches;
  if (box && (folded === "1" || (phone && folded !== "0"))) box.classList.add("collapsed");
});

// What pages ask for with data- attributes: the Content-Security-Policy runs no script
// written in the HTML (no onclick=, onchange=, onsubmit=), only files like this one.
document.addEventListener("change", (event) => {
  // Task checkboxes (complete by checkbox, T1) and filter selects submit their form at once.
  const auto = event.target.closest("[data-autosubmit]");
  if (auto && auto.form) auto.form.submit();
});
document.addEventListener("submit", (event) => {
  // Destructive actions ask first: <form data-confirm="Delete this client?">, or the button
  // that submits (<button data-confirm=...>, bulk actions sharing one form). The text is
  // translated by the page.
  const button = event.submitter && event.submitter.closest("[data-confirm]");
  const form = event.target.closest("form[data-confirm]");
  const question = (button && button.dataset.confirm) || (form && form.dataset.confirm);
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener("click", (event) => {
  // A link to copy: one click selects all of it.
  const copy = event.target.closest("[data-select-on-click]");
  if (copy) copy.select();
  // Working hours: fill the rotation form with a preset (day, night, two days off).
  const preset = event.target.closest("[data-rotation-preset]");
  if (preset) {
    document.getElementById("f-pattern").value = preset.dataset.pattern;
    document.getElementById("f-rotation_start").value = preset.dataset.start;
    document.querySelector("input[name=kind][value=rotation]").checked = true;
  }
});
