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
        refreshCounts();
      } catch (error) {
        // Put the card back where it was: the server refused the move.
        event.from.insertBefore(card, event.from.children[event.oldIndex] || null);
        crm.notify(error.message, "error");
      }
    },
  });
});

function refreshCounts() {
  document.querySelectorAll("#kanban .column").forEach((column) => {
    column.querySelector(".count").textContent = column.querySelectorAll(".deal-card").length;
  });
}
