// Deals kanban (A1): drag a card to another column; the new status is saved at once.
"use strict";

document.querySelectorAll("#kanban .cards").forEach((column) => {
  Sortable.create(column, {
    group: "deals",
    animation: 150,
    onEnd: async (event) => {
      const card = event.item;
      const target = event.to.dataset.status;
      if (event.from === event.to && event.oldIndex === event.newIndex) return;
      try {
        const answer = await crm.post(`/api/deals/${card.dataset.id}/move`, {
          status: target,
          position: event.newIndex,
        });
        card.dataset.saved = target;
        crm.toast(answer.message);
        moveCount(event.from, -1);
        moveCount(event.to, 1);
        moveAmount(event.from, card, -1);
        moveAmount(event.to, card, 1);
      } catch (error) {
        // Put the card back where it was: the server refused the move.
        event.from.insertBefore(card, event.from.children[event.oldIndex] || null);
        crm.notify(error.message, "error");
      }
    },
  });
});

// Counts cover every deal of the column (not only the cards shown): adjust them by one.
function moveCount(cards, delta) {
  if (cards === null) return;
  const badge = cards.closest(".column").querySelector(".count");
  badge.textContent = Number(badge.textContent) + delta;
}

// The column's sum per currency follows the card (the server's figures, adjusted by its amount).
function moveAmount(cards, card, sign) {
  if (cards === null) return;
  const totals = cards.closest(".column").querySelector(".totals");
  const currency = card.dataset.currency;
  let span = totals.querySelector(`[data-currency="${currency}"]`);
  if (span === null) {
    span = document.createElement("span");
    span.dataset.currency = currency;
    span.dataset.amount = "0";
    totals.appendChild(span);
  }
  const amount = Number(span.dataset.amount) + sign * Number(card.dataset.amount);
  span.dataset.amount = amount.toFixed(2);
  if (Math.abs(amount) < 0.005) {
    span.remove();
    return;
  }
  const lang = document.documentElement.lang || "es";
  span.textContent = new Intl.NumberFormat(lang, { style: "currency", currency }).format(amount);
}
