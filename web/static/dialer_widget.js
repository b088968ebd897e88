// The widget's auto-dialer tab (issue 8): a new list from the number(s) typed on the keypad
// and the phones of the contacts found in the Contacts tab. widget.js draws and drives lists.
(function () {
  "use strict";
  const button = document.getElementById("cw-dialer-new");
  if (!button) return;
  button.addEventListener("click", async () => {
    const typed = (document.getElementById("cw-number").value || "")
      .split(/[\s,;]+/).filter((n) => n.length > 0);
    const found = Array.from(document.querySelectorAll("#cw-contacts [data-phone]"))
      .map((b) => b.dataset.phone);
    const numbers = Array.from(new Set(typed.concat(found)));
    const note = document.getElementById("cw-dialer-note");
    if (!numbers.length) { note.textContent = button.dataset.empty; return; }
    try {
      const list = await window.crm.post("/api/dialer/lists", { numbers });
      note.textContent = `${list.name}: ${list.pending}/${list.total}`;
      const tab = document.querySelector('#call-widget [data-tab="dialer"], [role=tab][data-tab="dialer"]');
      if (tab) tab.click();  // widget.js reloads the lists
    } catch (err) {
      note.textContent = err.message;
    }
  });
})();
