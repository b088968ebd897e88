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
  notify(text, kind) {
    let box = document.getElementById("live-flash");
    if (!box) {
      box = document.createElement("div");
      box.id = "live-flash";
      box.setAttribute("role", "status");
      document.querySelector("main").prepend(box);
    }
    box.className = "flash " + (kind || "ok");
    box.textContent = text;
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
  const toggle = event.target.closest("[data-toggle-filters]");
  if (toggle) {
    const box = document.querySelector(".with-filters");
    box.classList.toggle("collapsed");
    localStorage.setItem("filters-collapsed", box.classList.contains("collapsed") ? "1" : "");
    event.preventDefault();
  }
});

document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector(".with-filters");
  if (box && localStorage.getItem("filters-collapsed")) box.classList.add("collapsed");
  // Task checkboxes submit their form at once (complete by checkbox, T1).
  document.querySelectorAll("input[data-autosubmit]").forEach((input) => {
    input.addEventListener("change", () => input.form.submit());
  });
});
