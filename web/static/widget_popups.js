// The call pop-ups (L3) of the widget (widget.js): one per call, following it from ringing to
// its end, in a column that stays inside the viewport (widget.css); each can be folded to a chip.
"use strict";

window.centralitaPopups = ({ t, resultText, el, clock, state, loadTeam }) => {
  const popups = document.getElementById("cw-popups");
  const template = document.getElementById("cw-popup-template");

  function popupFor(linkedid) {
    return popups.querySelector(`.cw-popup[data-linkedid="${CSS.escape(linkedid)}"]`);
  }
  function fillTransfer(pop) {
    const select = pop.querySelector(".cw-pop-transfer-to");
    const chosen = select.value;
    select.replaceChildren(select.options[0]);
    state.team.forEach((u) => select.append(el("option", { value: u.extension }, `${u.name} (${u.extension})`)));
    select.value = chosen;
  }
  function setCard(pop, card, number) {
    const name = pop.querySelector(".cw-pop-name");
    // The CRM's name first; for a number nobody has (or an auto-lead still named after its
    // number), the name the PBX gave; else "unknown number".
    const own = card.known && !card.unnamed ? card.name : "";
    const shown = own || card.caller_name || card.name || t.tUnknown;
    name.textContent = shown;
    if (card.client_id) name.href = "/clients/" + card.client_id;
    else if (card.lead_id) name.href = "/leads/" + card.lead_id;
    else name.removeAttribute("href");
    const pbx = pop.querySelector(".cw-pop-pbx");
    pbx.textContent = `(${t.tNotInCrm})`;
    pbx.hidden = card.known || !card.caller_name;
    pop.querySelector(".cw-pop-company").textContent = card.company || "";
    pop.querySelector(".cw-pop-number").textContent = number || card.number;
    pop.querySelector(".cw-pop-chip").textContent = [shown, number || card.number].filter(Boolean).join(" · ");
    const typed = pop.querySelector(".cw-pop-save").elements.name;
    if (!typed.value && card.caller_name) typed.value = card.caller_name;
    pop.querySelector(".cw-pop-deals").replaceChildren(...(card.open_deals || []).map((d) =>
      el("li", {}, `${d.title} · ${d.amount} ${d.currency}`)));
    const last = [];
    if (card.last_note) last.push(card.last_note);
    if (card.last_call_at) last.push(`${new Date(card.last_call_at).toLocaleString()} (${resultText(card.last_call_result)})`);
    pop.querySelector(".cw-pop-last").textContent = last.join(" · ");
    pop.querySelector(".cw-pop-save").hidden = Boolean(card.known) && !card.unnamed;
    pop.dataset.known = card.known ? "1" : "";
  }
  function setDirection(pop, direction) {
    const words = { in: t.tIncomingFrom, out: t.tOutgoingTo, internal: t.tInternalWith };
    pop.dataset.direction = direction || "";
    pop.querySelector(".cw-pop-direction").textContent = words[direction] || "";
  }
  function setState(pop, kind, text) {
    pop.dataset.state = kind;
    pop.classList.remove(...[...pop.classList].filter((c) => c.startsWith("state-")));
    pop.classList.add("state-" + kind);
    pop.querySelector(".cw-pop-state").textContent = text;
    const live = kind === "ringing" || kind === "answered";
    pop.querySelector(".cw-pop-actions").hidden = !live;
  }
  function post(pop, url, data) {
    return crm.post(url, Object.assign({ linkedid: pop.dataset.linkedid }, data));
  }
  function newPopup(msg) {
    const pop = template.content.firstElementChild.cloneNode(true);
    pop.dataset.linkedid = msg.linkedid;
    pop.querySelector(".cw-pop-close").addEventListener("click", () => pop.remove());
    // Minimised, a pop-up is one line (its state and who): the page under it stays usable.
    const minimise = pop.querySelector(".cw-pop-min");
    const fold = (folded) => {
      pop.classList.toggle("minimized", folded);
      minimise.setAttribute("aria-expanded", String(!folded));
      minimise.setAttribute("aria-label", folded ? t.tExpand : t.tMinimise);
      minimise.title = folded ? t.tExpand : t.tMinimise;
      minimise.textContent = folded ? "▢" : "–";
    };
    minimise.addEventListener("click", () => fold(!pop.classList.contains("minimized")));
    pop.querySelector(".cw-pop-chip").addEventListener("click", () => fold(false));
    pop.querySelector(".cw-pop-save").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.target;
      const error = form.querySelector(".cw-pop-error");
      error.hidden = true;
      try {
        const body = await post(pop, "/api/calls/save-caller", {
          kind: form.elements.kind.value, name: form.elements.name.value, company: form.elements.company.value,
        });
        setCard(pop, body.card, pop.querySelector(".cw-pop-number").textContent);
        pop.querySelector(".cw-pop-msg").textContent = t.tSaved;
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
      }
    });
    pop.querySelector(".cw-pop-note").addEventListener("submit", async (event) => {
      event.preventDefault();
      const area = event.target.elements.text;
      try {
        await post(pop, "/api/calls/note", { text: area.value });
        area.value = "";
        pop.querySelector(".cw-pop-msg").textContent = t.tNoteAdded;
      } catch (err) {
        pop.querySelector(".cw-pop-msg").textContent = err.message;
      }
    });
    pop.querySelector(".cw-pop-transfer").addEventListener("click", async () => {
      const to = pop.querySelector(".cw-pop-transfer-to").value;
      if (!to) return;
      // A refused transfer leaves the call with this agent: the reason shows as an alert.
      let refused = pop.querySelector(".cw-pop-transfer-error");
      if (!refused) {
        refused = el("p", { class: "cw-pop-transfer-error field-error", role: "alert" });
        pop.querySelector(".cw-pop-actions").after(refused);
      }
      refused.hidden = true;
      try { await post(pop, "/api/calls/transfer", { to_extension: to }); } catch (err) {
        refused.textContent = err.message;
        refused.hidden = false;
      }
    });
    pop.querySelector(".cw-pop-hangup").addEventListener("click", async () => {
      try { await post(pop, "/api/calls/hangup", {}); } catch (err) {
        pop.querySelector(".cw-pop-msg").textContent = err.message;
      }
    });
    fillTransfer(pop);
    popups.prepend(pop);
    if (!state.team.length) loadTeam().catch(() => {});
    return pop;
  }
  // A pop-up that says the call went elsewhere goes away, unless it has news since.
  function removeLater(pop, kind) {
    setTimeout(() => { if (pop.dataset.state === kind) pop.remove(); }, 4000);
  }
  const handlers = {
    ringing(msg) {
      const pop = popupFor(msg.linkedid) || newPopup(msg);
      setDirection(pop, msg.direction);
      setCard(pop, msg.card, msg.number);
      if (msg.answered) setState(pop, "answered", t.tAnswered);
      else if (msg.direction === "out") setState(pop, "ringing", "↗ " + t.tCallingOut);
      else setState(pop, "ringing", (msg.direction === "in" ? "↙ " : "↔ ") + t.tRingingIn);
    },
    card(msg) {
      const pop = popupFor(msg.linkedid);
      if (pop) setCard(pop, msg.card, pop.querySelector(".cw-pop-number").textContent);
    },
    answered(msg) {
      const pop = popupFor(msg.linkedid);
      if (!pop) return;
      setState(pop, "answered", t.tAnswered);
      const started = Date.now();
      pop.timer = setInterval(() => {
        if (pop.dataset.state !== "answered") { clearInterval(pop.timer); return; }
        pop.querySelector(".cw-pop-state").textContent = `${t.tAnswered} ${clock(Math.round((Date.now() - started) / 1000))}`;
      }, 1000);
    },
    stopped(msg) {
      const pop = popupFor(msg.linkedid);
      if (!pop) return;
      // Nobody answered yet: the call may still end as missed (or with its result) here.
      setState(pop, "stopped", msg.answered_by ? `${t.tStopped} (${msg.answered_by})` : t.tNoLongerRinging);
      removeLater(pop, "stopped");
    },
    transferred(msg) {
      const pop = popupFor(msg.linkedid);
      if (!pop) return;
      setState(pop, "transferred", `${t.tTransferred} ${msg.to}`);
      removeLater(pop, "transferred");
    },
    ended(msg) {
      const pop = popupFor(msg.linkedid);
      if (!pop) return;
      const answered = msg.result === "answered" || msg.talk_seconds;
      setState(pop, "ended", `${t.tEnded} · ${answered ? clock(msg.talk_seconds || 0) : resultText(msg.result)}`);
      pop.dataset.result = msg.result || "";
      pop.dataset.talk = String(msg.talk_seconds || 0);
    },
    missed(msg) {
      const pop = popupFor(msg.linkedid) || newPopup(msg);
      if (!pop.dataset.direction) setDirection(pop, "in");
      if (msg.card && msg.card.number) setCard(pop, msg.card, msg.card.number);
      setState(pop, "missed", t.tMissed);
    },
    // Mail (G5, E3): a notice for those who use the mailbox, closed by hand.
    mail(msg) {
      const title = msg.lead_created ? t.tMailNewLead : t.tMailFrom;
      const link = el("a", { class: "cw-pop-name", href: msg.url }, msg.subject || t.tMailNoSubject);
      mailNotice(msg, [el("span", { class: "cw-pop-direction muted" }, `${title} ${msg.sender}`), link]);
    },
    mail_skipped(msg) {
      mailNotice(msg, [el("span", {}, `${t.tMailSkipped}: ${msg.folder} #${msg.uid}`)]);
    },
  };
  function mailNotice(msg, body) {
    const pop = el("article", { class: "cw-popup cw-mail", role: "status" });
    if (msg.email_id) pop.dataset.emailId = String(msg.email_id);
    const close = el("button", { type: "button", class: "cw-pop-close link", "aria-label": t.tClose, title: t.tClose }, "×");
    close.addEventListener("click", () => pop.remove());
    const header = el("header");
    header.append(el("strong", { class: "cw-pop-state" }, "✉"), close);
    const inner = el("div", { class: "cw-pop-body" });
    inner.append(...body);
    pop.append(header, inner);
    popups.prepend(pop);
  }

  // Task reminders (T3): reminders.js, in the same column.
  const reminders = window.centralitaReminders ? window.centralitaReminders({ el, popups }) : {};

  return {
    handlers: { ...handlers, ...reminders },
    // The team changed: every pop-up's "transfer to" list follows.
    refreshTeam() { popups.querySelectorAll(".cw-popup").forEach(fillTransfer); },
  };
};
