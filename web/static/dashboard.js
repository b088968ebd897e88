// Dashboard (D2): drag widgets by their title, hide and show them; the layout is saved per user.
"use strict";

const grid = document.getElementById("widgets");
const hiddenBar = document.getElementById("hidden-widgets");

function layout() {
  const widgets = [...grid.querySelectorAll(".widget")];
  return {
    order: widgets.map((w) => w.dataset.widget),
    hidden: widgets.filter((w) => w.hidden).map((w) => w.dataset.widget),
  };
}

async function save() {
  try {
    const answer = await crm.post("/api/dashboard/layout", layout());
    crm.toast(answer.message);
  } catch (error) {
    crm.notify(error.message, "error");
  }
}

function refreshHiddenBar() {
  const hidden = layout().hidden;
  hiddenBar.hidden = hidden.length === 0;
  hiddenBar.querySelectorAll("[data-show]").forEach((button) => {
    button.hidden = !hidden.includes(button.dataset.show);
  });
}

Sortable.create(grid, { handle: "h2", animation: 150, onEnd: save });

document.addEventListener("click", (event) => {
  const hide = event.target.closest("[data-hide]");
  const show = event.target.closest("[data-show]");
  const key = (hide && hide.dataset.hide) || (show && show.dataset.show);
  if (!key) return;
  grid.querySelector(`[data-widget="${key}"]`).hidden = Boolean(hide);
  refreshHiddenBar();
  save();
});
