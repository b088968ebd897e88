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
        await crm.post(`/api/deals/${card.dataset.id}/move`, {
          status: target,
          position: event.newIndex,
        });
        card.dataset.saved = target;
        moveCount(event.from, -1);
        moveCount(event.to, 1);
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
