// The call widget (L2-L6): keypad, tabs, live pop-ups over /ws, click-to-call on every number.
"use strict";

(() => {
  const root = document.getElementById("call-widget");
  if (!root) return;
  const t = root.dataset; // translated texts (data-t-*)
  // Words for the codes the server sends (call results, click-to-call stages), rendered into
  // the page in the user's language by widget.html; a code never reaches the user as is.
  const labels = JSON.parse(document.getElementById("cw-labels").textContent);
  const resultText = (code) => labels.result[code] || code || "";
  const $ = (sel, el) => (el || root).querySelector(sel);
  const state = { mode: "softphone", extension: root.dataset.extension, team: [], working: true };
  const pending = new Map(); // click-to-call request_id -> number

  async function getJSON(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || document.body.dataset.tError);
    return body;
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clock(seconds) {
    const m = Math.floor(seconds / 60), s = seconds % 60;
    return `${m}:${String(s).padStart(2, "0")}`;
  }

  function status(text) { $("#cw-status").textContent = text || ""; }

  function progress(stage, text) {
    const box = $("#cw-progress");
    box.dataset.stage = stage;
    box.textContent = text;
    box.className = "cw-progress stage-" + stage;
  }

  // Opening, tabs, keypad.
  $(".cw-toggle").addEventListener("click", () => {
    const collapsed = root.classList.toggle("collapsed");
    $(".cw-toggle").setAttribute("aria-expanded", String(!collapsed));
    if (!collapsed) $("#cw-number").focus();
  });
  function openWidget() {
    root.classList.remove("collapsed");
    $(".cw-toggle").setAttribute("aria-expanded", "true");
  }
  root.querySelectorAll("[data-key]").forEach((button) => {
    button.addEventListener("click", () => {
      const input = $("#cw-number");
      input.value += button.dataset.key;
      input.focus();
    });
  });
  let teamTimer = null;
  function showTab(name) {
    root.querySelectorAll("[role=tab]").forEach((tab) => tab.setAttribute("aria-selected", String(tab.dataset.tab === name)));
    root.querySelectorAll(".cw-pane").forEach((pane) => { pane.hidden = pane.dataset.pane !== name; });
    clearInterval(teamTimer);
    if (name === "history") loadHistory();
    if (name === "team") { loadTeam(); teamTimer = setInterval(loadTeam, 5000); }
    if (name === "dialer") loadDialer();
  }
  root.querySelectorAll("[role=tab]").forEach((tab) => tab.addEventListener("click", () => showTab(tab.dataset.tab)));

  // Tabs' contents.
  function phoneButton(number, label) {
    return el("button", { type: "button", class: "link", "data-phone": number }, label || number);
  }
  let searchTimer = null;
  $("#cw-search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(async () => {
      const list = $("#cw-contacts");
      const q = $("#cw-search").value.trim();
      if (q.length < 2) { list.replaceChildren(); return; }
      const body = await getJSON("/api/widget/contacts?q=" + encodeURIComponent(q));
      list.replaceChildren(...body.contacts.map((c) => {
        const item = el("li", { class: "cw-contact" });
        item.append(el("a", { href: c.url }, c.name));
        if (c.company) item.append(el("span", { class: "muted" }, " · " + c.company));
        c.phones.forEach((p) => { item.append(el("br")); item.append(phoneButton(p)); });
        return item;
      }));
      if (!body.contacts.length) list.append(el("li", { class: "muted" }, t.tNoContacts));
    }, 250);
  });
  async function loadHistory() {
    const body = await getJSON("/api/widget/history");
    const list = $("#cw-history");
    list.replaceChildren(...body.calls.map((c) => {
      const item = el("li", { class: "cw-hist result-" + c.result });
      item.append(el("span", { class: "dir" }, c.direction === "in" ? "↙" : c.direction === "out" ? "↗" : "↔"));
      item.append(phoneButton(c.number, c.name || c.number));
      item.append(el("span", { class: "muted" }, ` ${new Date(c.started_at).toLocaleString()} · ${resultText(c.result)}` + (c.talk_seconds ? ` · ${clock(c.talk_seconds)}` : "")));
      return item;
    }));
    if (!body.calls.length) list.append(el("li", { class: "muted" }, t.tNoCalls));
  }
  const stateLabels = { free: t.tFree, ringing: t.tRinging, on_call: t.tOnCall, offline: t.tOffline };
  async function loadTeam() {
    const body = await getJSON("/api/widget/team");
    state.team = body.team;
    const list = $("#cw-team");
    list.replaceChildren(...body.team.map((u) => {
      const item = el("li", { class: "cw-mate state-" + u.state, "data-extension": u.extension });
      item.append(phoneButton(u.extension, `${u.name} (${u.extension})`));
      item.append(el("span", { class: "badge state" }, stateLabels[u.state] || u.state));
      return item;
    }));
    if (!body.team.length) list.append(el("li", { class: "muted" }, t.tNoTeam));
    pops.refreshTeam();
  }

  // The auto-dialer tab: the user's lists (issue 8's /api/dialer), the live one with controls.
  let dialerList = null;
  function showDialer(body) {
    const current = body.current;
    dialerList = current;
    $("#cw-dialer-empty").hidden = body.lists.length > 0;
    $("#cw-dialer-current").hidden = !current;
    if (current) {
      const name = $(".cw-dialer-name");
      name.textContent = current.name;
      name.href = "/dialer/" + current.id;
      $(".cw-dialer-status").textContent = current.status_label;
      $(".cw-dialer-counts").textContent = `${current.pending} / ${current.done} / ${current.skipped} (${t.tDialerCounts})`;
      $(".cw-dialer-dialing").textContent = current.dialing ? `${t.tCalling} ${current.dialing.name || ""} ${current.dialing.number}` : "";
    }
    $("#cw-dialer-lists").replaceChildren(...body.lists.filter((d) => !current || d.id !== current.id).map((d) => {
      const item = el("li");
      item.append(el("a", { href: "/dialer/" + d.id }, d.name));
      item.append(el("span", { class: "badge" }, d.status_label));
      return item;
    }));
  }
  async function loadDialer() { showDialer(await getJSON("/api/dialer/lists")); }
  root.querySelectorAll("[data-dialer-action]").forEach((button) => {
    button.addEventListener("click", async () => {
      if (!dialerList) return;
      try {
        await crm.post(`/api/dialer/lists/${dialerList.id}/${button.dataset.dialerAction}`, {});
        await loadDialer();
      } catch (err) { status(err.message); }
    });
  });

  // Click-to-call (L5): the keypad, the team tab and every number of every page.
  async function call(number, fromDialBox) {
    number = (number || "").trim();
    if (!number) return;
    openWidget();
    // In WebRTC mode the dial box calls straight from the browser's SIP phone once registered.
    if (fromDialBox && state.mode === "webrtc" && phone.registered && !phone.session) { dialWebPhone(number); return; }
    progress("requested", `${t.tCalling} ${number}…`);
    try {
      const body = await crm.post("/api/calls/originate", { number });
      pending.set(body.request_id, body.number);
      if (state.mode === "webrtc") phone.expectCallback = Date.now();
      if (!$("#cw-progress").dataset.stage || $("#cw-progress").dataset.stage === "requested") {
        progress("requested", `${t.tCalling} ${body.number}…`);
      }
    } catch (error) {
      progress("failed", `${t.tFailed}: ${error.message}`);
    }
  }
  $("#cw-call").addEventListener("click", () => call($("#cw-number").value, true));
  $("#cw-number").addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); call($("#cw-number").value, true); }
  });
  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-phone], a[href^='tel:']");
    if (!target) return;
    event.preventDefault();
    const number = target.dataset.phone || decodeURIComponent(target.getAttribute("href").slice(4));
    $("#cw-number").value = number;
    call(number);
  });
  $("#cw-sms").addEventListener("click", () => {
    const number = $("#cw-number").value.trim();
    window.location.href = "/sms/new" + (number ? "?to=" + encodeURIComponent(number) : "");
  });
  function onProgress(msg) {
    const number = pending.get(msg.request_id) || "";
    const texts = { ringing_agent: t.tRingingAgent, dialing: `${t.tDialing} ${number}`, connected: t.tConnected };
    const failed = msg.reason ? `${t.tFailed}: ${msg.reason}` : t.tFailed;
    const text = msg.stage === "failed" ? failed : (texts[msg.stage] || labels.stage[msg.stage] || "");
    progress(msg.stage, text);
    if (msg.stage === "failed" || msg.stage === "connected") pending.delete(msg.request_id);
  }

  // Pop-ups (L3): widget_popups.js, one per call, from ringing to its end.
  const pops = window.centralitaPopups({ t, resultText, el, clock, state, loadTeam });
  const handlers = {
    ...pops.handlers,
    c2c: onProgress,
    pong() {},
  };

  // The websocket, reconnected with backoff when it drops.
  let delay = 500;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(scheme + location.host + "/ws");
    ws.addEventListener("open", () => { delay = 500; root.dataset.live = "1"; });
    ws.addEventListener("message", (event) => {
      const msg = JSON.parse(event.data);
      const handler = handlers[msg.type];
      if (handler) handler(msg);
    });
    ws.addEventListener("close", (event) => {
      root.dataset.live = "";
      // 4401: the session was ended (logout elsewhere, password change): the page goes to login.
      if (event.code === 4401) { location.reload(); return; }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    });
  }

  // The in-browser phone (WebRTC mode): SIP over WebSocket with sip.js, served from node_modules.
  // It registers by itself with the SIP login of the user's profile (sent by /api/widget/state:
  // the browser must hold the password, SIP digest authentication is done by the browser).
  const phone = { ua: null, SIP: null, registered: false, invitation: null, session: null, expectCallback: 0, failure: "", held: false, statsTimer: null };
  function webrtcState(text) { $("#cw-webrtc-state").textContent = text; }
  function webrtcFailed(reason, code) {
    phone.failure = reason;
    root.dataset.webrtcError = code;
    webrtcState(`${t.tWebrtcFailed}: ${reason}`);
  }
  function startWebPhone() {
    $("#cw-webrtc").hidden = false;
    if (state.sip_problem === "missing") { webrtcFailed(t.tWebrtcNoPassword, "no-password"); return; }
    if (state.sip_problem === "unreadable") { webrtcFailed(t.tWebrtcUnreadable, "unreadable"); return; }
    registerWebPhone(state.sip_username, state.sip_password).catch((err) => webrtcFailed(err.message, "error"));
  }
  async function registerWebPhone(username, password) {
    const SIP = await import("/widget/vendor/sip.js/index.js");
    if (phone.ua) await phone.ua.stop();
    const server = state.webrtc_ws_url;
    const host = new URL(server.replace(/^ws/, "http")).hostname;
    let registerer = null, registerOptions = null;
    const ua = new SIP.UserAgent({
      uri: SIP.UserAgent.makeURI(`sip:${username}@${host}`),
      transportOptions: { server },
      authorizationUsername: username,
      authorizationPassword: password,
      logBuiltinEnabled: false,
      delegate: {
        onInvite(invitation) {
          if (phone.session || phone.invitation) { invitation.reject({ statusCode: 486 }); return; }
          phone.invitation = invitation;
          track(invitation, "in");
          // A click-to-call rings our own extension first: answer it without asking.
          if (Date.now() - phone.expectCallback < 30000) { phone.expectCallback = 0; answer(); return; }
          const from = invitation.remoteIdentity;
          $("#cw-webrtc-from").textContent = from.displayName || from.uri.user || "";
          $("#cw-webrtc-incoming").hidden = false;
          callState("ringing", t.tIncoming);
        },
        onDisconnect(error) {
          if (!error) return;
          phone.registered = false;
          root.dataset.webrtc = "disconnected";  // a state code, like sip.js's
          webrtcFailed(`${t.tWebrtcServerDown} (${server})`, "server-down");
          if (registerer) setTimeout(() => ua.reconnect().then(() => registerer.register(registerOptions)).catch(() => {}), 5000);
        },
      },
    });
    phone.ua = ua;
    phone.SIP = SIP;
    phone.host = host;
    try {
      await ua.start();
    } catch {
      root.dataset.webrtc = "disconnected";  // a state code, like sip.js's
      webrtcFailed(`${t.tWebrtcServerDown} (${server})`, "server-down");
      return;
    }
    registerer = new SIP.Registerer(ua);
    registerOptions = {
      requestDelegate: {
        onReject(response) {
          const { statusCode, reasonPhrase } = response.message;
          const wrong = statusCode === 401 || statusCode === 403 || statusCode === 407;
          webrtcFailed(wrong ? `${t.tWebrtcWrongPassword} (${statusCode} ${reasonPhrase})` : `${statusCode} ${reasonPhrase}`, String(statusCode));
        },
      },
    };
    registerer.stateChange.addListener((s) => {
      phone.registered = s === SIP.RegistererState.Registered;
      root.dataset.webrtc = s;
      if (phone.registered) { phone.failure = ""; root.dataset.webrtcError = ""; webrtcState(t.tWebrtcRegistered); }
      else webrtcState(phone.failure ? `${t.tWebrtcFailed}: ${phone.failure}` : t.tWebrtcFailed);
    });
    await registerer.register(registerOptions);
  }

  // One call at a time: its state line, hold and hang-up, the remote audio and its level.
  function callState(stage, text) {
    root.dataset.webrtcCall = stage;
    $("#cw-webrtc-call").hidden = stage === "";
    $("#cw-webrtc-call-state").textContent = text || "";
    $("#cw-webrtc-hold").hidden = !(stage === "established" || stage === "held" || stage === "held-remote");
    $("#cw-webrtc-hold").textContent = stage === "held" ? t.tWebrtcResume : t.tWebrtcHold;
  }
  function playRemoteAudio(session) {
    const pc = session.sessionDescriptionHandler.peerConnection;
    const stream = new MediaStream();
    pc.getReceivers().forEach((r) => { if (r.track) stream.addTrack(r.track); });
    $("#cw-webrtc-audio").srcObject = stream;
    // What arrives (inbound RTP bytes, the loudest level heard), for the call's state line.
    root.dataset.webrtcRx = "0";
    root.dataset.webrtcLevel = "0";
    phone.statsTimer = setInterval(async () => {
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type !== "inbound-rtp" || s.kind !== "audio") return;
        root.dataset.webrtcRx = String(s.bytesReceived || 0);
        if ((s.audioLevel || 0) > Number(root.dataset.webrtcLevel)) root.dataset.webrtcLevel = String(s.audioLevel);
      });
    }, 500);
  }
  function isHoldOffer(body) { return /a=(sendonly|inactive)/.test(body || ""); }
  function track(session, direction) {
    const SIP = phone.SIP;
    phone.session = session;
    phone.held = false;
    session.delegate = {
      // A re-INVITE from the other side: it put us on hold, or took us off it.
      onInvite(request) {
        if (phone.held) return;
        if (isHoldOffer(request.body)) callState("held-remote", t.tWebrtcHeldRemote);
        else callState("established", t.tAnswered);
      },
    };
    session.stateChange.addListener((s) => {
      if (s === SIP.SessionState.Establishing) callState(direction === "out" ? "calling" : "ringing", direction === "out" ? t.tCallingOut : t.tIncoming);
      if (s === SIP.SessionState.Established) {
        $("#cw-webrtc-incoming").hidden = true;
        callState("established", t.tAnswered);
        playRemoteAudio(session);
      }
      if (s === SIP.SessionState.Terminated) {
        clearInterval(phone.statsTimer);
        $("#cw-webrtc-incoming").hidden = true;
        $("#cw-webrtc-audio").srcObject = null;
        phone.session = null;
        phone.invitation = null;
        callState("ended", t.tWebrtcHungUp);
      }
    });
  }
  function dialWebPhone(number) {
    const SIP = phone.SIP;
    const digits = number.replace(/[^0-9+*#]/g, "");
    const target = digits && SIP.UserAgent.makeURI(`sip:${digits}@${phone.host}`);
    if (!target) { callState("ended", t.tFailed); return; }
    const inviter = new SIP.Inviter(phone.ua, target, { sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } });
    track(inviter, "out");
    callState("calling", `${t.tCalling} ${digits}…`);
    inviter.invite({
      requestDelegate: {
        onReject(response) { callState("ended", `${t.tFailed}: ${response.message.statusCode} ${response.message.reasonPhrase}`); },
      },
    }).catch((err) => callState("ended", `${t.tFailed}: ${err.message}`));
  }
  function answer() {
    const invitation = phone.invitation;
    if (!invitation) return;
    $("#cw-webrtc-incoming").hidden = true;
    invitation.accept({ sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } })
      .catch((err) => callState("ended", `${t.tFailed}: ${err.message}`));
  }
  function setHold(hold) {
    const session = phone.session;
    if (!session || session.state !== phone.SIP.SessionState.Established) return;
    const options = session.sessionDescriptionHandlerOptionsReInvite || {};
    session.sessionDescriptionHandlerOptionsReInvite = { ...options, hold };
    session.invite({
      requestDelegate: {
        onAccept() {
          phone.held = hold;
          session.sessionDescriptionHandler.peerConnection.getSenders().forEach((s) => { if (s.track) s.track.enabled = !hold; });
          callState(hold ? "held" : "established", hold ? t.tWebrtcHeld : t.tAnswered);
        },
        onReject() { callState(phone.held ? "held" : "established", t.tFailed); },
      },
    }).catch((err) => status(err.message));
  }
  function hangUp() {
    const session = phone.session;
    if (!session) return;
    const S = phone.SIP.SessionState;
    if (session.state === S.Established) session.bye();
    else if (session instanceof phone.SIP.Inviter) session.cancel();
    else session.reject();
  }
  $("#cw-webrtc-answer").addEventListener("click", answer);
  $("#cw-webrtc-decline").addEventListener("click", () => {
    if (phone.invitation && phone.invitation.state === phone.SIP.SessionState.Initial) phone.invitation.reject();
    $("#cw-webrtc-incoming").hidden = true;
  });
  $("#cw-webrtc-hold").addEventListener("click", () => setHold(!phone.held));
  $("#cw-webrtc-hangup").addEventListener("click", hangUp);

  async function init() {
    const body = await getJSON("/api/widget/state");
    Object.assign(state, body);
    root.dataset.mode = body.mode;
    const sms = $("#cw-sms");
    sms.disabled = !body.sms_enabled;
    if (body.sms_enabled) sms.removeAttribute("title");
    if (!body.extension) status(t.tNoExtension);
    else if (body.mode === "working_hours" && !body.working) status(t.tOffHours);
    else if (!body.pbx_up) status(t.tPbxDown);
    if (body.mode === "webrtc" && body.extension && body.webrtc_ws_url) startWebPhone();
    body.calls.forEach((msg) => handlers.ringing(msg));
  }
  init().catch((err) => status(err.message)).finally(connect);
})();
