// The bulk forms of the clients and leads lists (C8, Q1): the header checkbox ticks the page's
// rows; with every row of the page ticked and more rows matching the filters, an offer extends
// the selection to "all N matching" (the form's all_matching field; the server resolves the
// rows from the page's filters). Unticking a row or "Clear selection" goes back to the ticks.
(function () {
  "use strict";
  document.querySelectorAll("form[data-bulk]").forEach((form) => {
    const name = form.dataset.bulk;
    // Row checkboxes may sit outside the form (rows holding forms of their own): form="id".
    const boxes = () => Array.from(document.querySelectorAll(`input[type=checkbox][name="${name}"]`))
      .filter((box) => box.form === form);
    const header = document.querySelector(`input[data-select-all="${form.id}"]`);
    const matching = form.elements.namedItem("all_matching");
    const offer = form.querySelector("[data-select-matching]");

    function setMatching(on) {
      matching.value = on ? "1" : "";
      if (!offer) return;
      offer.querySelector("[data-page-selected]").hidden = on;
      offer.querySelector("[data-all-selected]").hidden = !on;
    }

    function refresh() {
      const all = boxes();
      const ticked = all.filter((box) => box.checked).length;
      if (header) {
        header.checked = all.length > 0 && ticked === all.length;
        header.indeterminate = ticked > 0 && ticked < all.length;
      }
      if (ticked < all.length || all.length === 0) setMatching(false);
      if (offer) offer.hidden = !(all.length > 0 && ticked === all.length);
    }

    if (header) {
      header.addEventListener("change", () => {
        boxes().forEach((box) => { box.checked = header.checked; });
        refresh();
      });
    }
    document.addEventListener("change", (event) => {
      if (event.target.name === name && event.target.form === form) refresh();
    });
    if (offer) {
      offer.querySelector("[data-select-all-matching]").addEventListener("click", () => setMatching(true));
      offer.querySelector("[data-clear-selection]").addEventListener("click", () => {
        boxes().forEach((box) => { box.checked = false; });
        refresh();
      });
    }
    refresh();
  });
})();
