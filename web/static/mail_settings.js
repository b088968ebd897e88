// Settings -> Mail: choosing a mail service fills the servers, ports and security modes from
// its preset and shows what the service asks for (the texts come translated from the page's
// data-presets). Without this script the server fills them when the hosts are left empty.
(function () {
  const form = document.querySelector("form.mail-account-form");
  if (!form) return;
  // The connection test may take a while (two servers, each up to its timeout): say so, and
  // ignore further clicks until the page comes back. A page restored by "Back" is usable again.
  const test = form.querySelector("button.mail-test");
  if (test) {
    const label = test.textContent;
    form.addEventListener("submit", function (event) {
      if (form.dataset.sending) {
        event.preventDefault();
        return;
      }
      if (event.submitter === test) {
        form.dataset.sending = "1";
        test.textContent = test.dataset.busy;
        test.setAttribute("aria-busy", "true");
      }
    });
    window.addEventListener("pageshow", function () {
      delete form.dataset.sending;
      test.textContent = label;
      test.removeAttribute("aria-busy");
    });
  }
  const presets = JSON.parse(form.dataset.presets || "{}");
  const provider = form.querySelector('[name="provider"]');
  const hint = form.querySelector(".mail-hint");
  if (!provider) return;
  provider.addEventListener("change", function () {
    const preset = presets[provider.value];
    if (!preset) return;
    for (const name of ["imap_host", "imap_port", "imap_security", "smtp_host", "smtp_port", "smtp_security"]) {
      const input = form.querySelector('[name="' + name + '"]');
      if (input) input.value = String(preset[name]);
    }
    const saves = form.querySelector('[name="server_saves_sent"]');
    if (saves) saves.checked = Boolean(preset.server_saves_sent);
    if (hint) hint.textContent = preset.hint;
  });
})();
