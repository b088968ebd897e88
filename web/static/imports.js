// Import pages: the progress bar, which polls the batch until it finishes and then reloads
// the page for the full report (app.js asks before cancelling an import: data-confirm).
(function () {
  const box = document.querySelector(".import-progress");
  if (!box || box.dataset.finished === "true") return;
  const url = box.dataset.progressUrl;
  async function poll() {
    let data;
    try {
      const resp = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!resp.ok) throw new Error(String(resp.status));
      data = await resp.json();
    } catch (err) {
      setTimeout(poll, 3000);
      return;
    }
    box.querySelector(".import-bar").value = data.percent;
    // Labels come translated and with the language's digit grouping from the server.
    box.querySelector(".import-status").textContent = data.labels.status;
    box.querySelector(".import-count").textContent = data.labels.count;
    for (const key of ["created", "updated", "skipped", "rejected"]) {
      box.querySelector('[data-count="' + key + '"]').textContent = data.labels[key];
    }
    const error = box.querySelector(".import-error");
    error.textContent = data.error;
    error.hidden = !data.error;
    if (data.finished) {
      window.location.reload();
      return;
    }
    setTimeout(poll, 700);
  }
  poll();
})();
