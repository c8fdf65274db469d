// The staff chat console: the shared queue, her conversations and the tools
// around them (hand-over, escalation, interpreter, case and code word), the
// supervisors' overview and the interpreters' requests, over one WebSocket.
// Messages are shown in sequence order, once; messages not yet acknowledged
// are sent again after a reconnection (the server recognises their ids).
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root) { return; }
  var text = root.dataset;
  var canned = JSON.parse(document.getElementById("canned-messages").textContent);
  var interpreterStates = text.interpreterStates.split("|");
  var results = text.results.split("|");
  var socket = null;
  var retryDelay = 500;
  var panes = {};
  var colleagues = [];
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (content !== undefined) { node.textContent = content; }
    return node;
  }

  function button(label, className, onClick) {
    var node = el("button", className, label);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(frame)); }
  }

  function showError(message) { var box = $("console-error"); box.textContent = message || ""; box.hidden = !message; }

  function safetyLabel(value) {
    return { worried: text.worried, not_worried: text.notWorried }[value] || text.unanswered;
  }

  function renderQueue(frame) {
    var body = $("queue").querySelector("tbody");
    body.textContent = "";
    $("offers").textContent = frame.offers === "on" ? "" : text.offersOff;
    frame.conversations.forEach(function (item) {
      var row = el("tr");
      row.setAttribute("data-conversation", item.conversation);
      row.appendChild(el("td", "", text.waiting.replace("{minutes}", Math.floor(item.waiting_seconds / 60))));
      row.appendChild(el("td", item.safety === "worried" ? "alert" : "", safetyLabel(item.safety)));
      row.appendChild(el("td", "", item.language));
      var cell = el("td");
      cell.appendChild(button(text.accept, "accept", function () { send({ type: "accept", conversation: item.conversation }); }));
      row.appendChild(cell);
      body.appendChild(row);
    });
  }

  function renderOverview(frame) {
    $("supervision").hidden = false;
    var body = $("overview").querySelector("tbody");
    body.textContent = "";
    frame.conversations.forEach(function (item) {
      var row = el("tr");
      row.setAttribute("data-conversation", item.conversation);
      row.appendChild(el("td", "", item.state));
      row.appendChild(el("td", "", item.worker || ""));
      row.appendChild(el("td", "", String(item.minutes)));
      row.appendChild(el("td", item.safety === "worried" ? "alert" : "", safetyLabel(item.safety)));
      row.appendChild(el("td", item.escalated ? "alert" : "", item.escalated ? "!" : ""));
      var cell = el("td");
      if (!panes[item.conversation]) {
        cell.appendChild(button(text.observe, "observe", function () { send({ type: "observe", conversation: item.conversation }); }));
      }
      cell.appendChild(button(text.takeOver, "take-over", function () { send({ type: "take_over", conversation: item.conversation }); }));
      row.appendChild(cell);
      body.appendChild(row);
    });
  }

  function renderInterpreterRequests(frame) {
    $("interpreting").hidden = false;
    var list = $("interpreter-requests");
    list.textContent = "";
    frame.conversations.forEach(function (item) {
      var entry = el("li", "", item.language + " ");
      entry.appendChild(button(text.join, "join", function () { send({ type: "interpret", conversation: item.conversation }); }));
      list.appendChild(entry);
    });
  }

  function renderColleagues() {
    Object.keys(panes).forEach(function (id) {
      var select = panes[id].colleagues;
      if (!select) { return; }
      select.textContent = "";
      colleagues.forEach(function (person) {
        var option = el("option", "", person.name);
        option.value = String(person.id);
        select.appendChild(option);
      });
    });
  }

  function workerTools(pane, id) {
    var tools = el("div", "tools");
    canned.forEach(function (entry) {
      tools.appendChild(button(entry.title, "canned", function () {
        var item = { type: "canned", conversation: id, canned: entry.id, client_id: newId() };
        pane.outbox.push(item);
        send(item);
      }));
    });
    pane.colleagues = el("select", "colleagues");
    pane.colleagues.setAttribute("aria-label", text.transfer);
    tools.appendChild(pane.colleagues);
    tools.appendChild(button(text.transfer, "transfer", function () {
      if (pane.colleagues.value) { send({ type: "transfer", conversation: id, to: parseInt(pane.colleagues.value, 10) }); }
    }));
    tools.appendChild(button(text.toQueue, "to-queue", function () { send({ type: "transfer", conversation: id, to: null }); }));
    tools.appendChild(button(text.escalate, "escalate", function () { send({ type: "escalate", conversation: id }); }));
    var language = el("input", "interpreter-language");
    language.setAttribute("aria-label", text.languageLabel);
    language.placeholder = text.languageLabel;
    tools.appendChild(language);
    tools.appendChild(button(text.askInterpreter, "ask-interpreter", function () {
      if (language.value.trim()) { send({ type: "interpreter_request", conversation: id, language: language.value.trim() }); }
    }));
    tools.appendChild(button(text.releaseInterpreter, "release-interpreter", function () { send({ type: "interpreter_leave", conversation: id }); }));
    var reference = el("input", "case-reference");
    reference.setAttribute("aria-label", text.reference);
    reference.placeholder = text.reference;
    tools.appendChild(reference);
    tools.appendChild(button(text.linkCase, "link-case", function () {
      if (reference.value.trim()) { send({ type: "case_link", conversation: id, reference: reference.value.trim() }); }
    }));
    tools.appendChild(button(text.newCase, "new-case", function () { send({ type: "case_open", conversation: id }); }));
    tools.appendChild(button(text.askCode, "ask-code", function () { send({ type: "verify", conversation: id }); }));
    var debrief = el("input");
    debrief.type = "checkbox";
    var debriefLabel = el("label", "debrief");
    debriefLabel.appendChild(debrief);
    debriefLabel.appendChild(document.createTextNode(" " + text.debrief));
    tools.appendChild(debriefLabel);
    tools.appendChild(button(text.end, "end", function () { send({ type: "end", conversation: id, debrief: debrief.checked }); }));
    tools.appendChild(button(text.block, "block", function () { send({ type: "block", conversation: id, hours: 24 }); }));
    return tools;
  }

  function compose(pane, id) {
    var form = el("form", "compose");
    var area = el("textarea");
    area.setAttribute("dir", "auto");
    area.rows = 3;
    area.maxLength = 2000;
    area.setAttribute("aria-label", text.send);
    form.appendChild(area);
    var sendButton = el("button", "", text.send);
    sendButton.type = "submit";
    form.appendChild(sendButton);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var value = area.value.trim();
      if (!value) { return; }
      var item = { type: "message", conversation: id, client_id: newId(), text: value };
      pane.outbox.push(item);
      area.value = "";
      send(item);
    });
    return form;
  }

  function openPane(frame) {
    var id = frame.conversation;
    if (panes[id] && panes[id].role === frame.role) { return panes[id]; }
    if (panes[id]) { panes[id].node.remove(); }
    var pane = { id: id, seq: panes[id] ? panes[id].seq : 0, outbox: [], role: frame.role || "worker", node: el("section", "pane") };
    pane.node.setAttribute("data-conversation", id);
    pane.node.setAttribute("data-role", pane.role);
    pane.node.appendChild(el("p", frame.safety === "worried" ? "alert safety" : "safety", safetyLabel(frame.safety)));
    pane.alert = el("p", "alert safe-word-alert");
    pane.alert.setAttribute("role", "alert");
    pane.alert.hidden = true;
    pane.node.appendChild(pane.alert);
    pane.notice = el("p", "notice");
    pane.notice.setAttribute("role", "status");
    if (pane.role === "observer") { pane.notice.textContent = text.observing; }
    pane.node.appendChild(pane.notice);
    pane.status = el("p", "case-status");
    pane.node.appendChild(pane.status);
    pane.list = el("ol", "messages-list");
    pane.node.appendChild(pane.list);
    if (pane.role !== "observer") { pane.node.appendChild(compose(pane, id)); }
    if (pane.role === "worker") { pane.node.appendChild(workerTools(pane, id)); }
    if (pane.role === "interpreter") {
      pane.node.appendChild(button(text.leave, "leave", function () { send({ type: "interpreter_leave", conversation: id }); }));
    }
    $("conversations").appendChild(pane.node);
    panes[id] = pane;
    renderColleagues();
    return pane;
  }

  function closePane(id, message) {
    var pane = panes[id];
    if (!pane) { return; }
    pane.node.textContent = "";
    pane.node.appendChild(el("p", "notice", message));
    delete panes[id];
  }

  function label(from) {
    return { survivor: text.she, interpreter: text.interpreter, system: text.notice }[from] || text.you;
  }

  function handle(frame) {
    var pane = frame.conversation ? panes[frame.conversation] : null;
    switch (frame.type) {
      case "queue": renderQueue(frame); break;
      case "colleagues": colleagues = frame.workers; renderColleagues(); break;
      case "overview": renderOverview(frame); break;
      case "interpreter_requests": renderInterpreterRequests(frame); break;
      case "escalation":
        $("escalation-alert").textContent = text.escalation;
        $("escalation-alert").hidden = false;
        break;
      case "conversation":
        pane = openPane(frame);
        if (frame.role !== "observer") { pane.notice.textContent = frame.connected ? "" : text.left; }
        break;
      case "message":
        if (!pane) { return; }
        if (frame.seq <= pane.seq) { return; }
        pane.seq = frame.seq;
        var item = el("li", "bubble from-" + frame.from);
        item.appendChild(el("span", "who", label(frame.from)));
        var body = el("p", "", frame.text);
        body.setAttribute("dir", "auto");
        item.appendChild(body);
        pane.list.appendChild(item);
        if (frame.from === "survivor" && pane.role !== "observer") { pane.notice.textContent = ""; }
        break;
      case "ack":
        if (pane) { pane.outbox = pane.outbox.filter(function (entry) { return entry.client_id !== frame.client_id; }); }
        break;
      case "presence":
        if (pane) { pane.notice.textContent = frame.connected ? text.back : text.left; }
        break;
      case "silence":
        if (pane) { pane.notice.textContent = text.silence; }
        break;
      case "transferred": closePane(frame.conversation, text.transferred); break;
      case "escalated": if (pane) { pane.notice.textContent = text.escalated; } break;
      case "interpreter":
        if (pane) {
          var index = ["requested", "consented", "declined", "joined", "none"].indexOf(frame.state);
          pane.status.textContent = interpreterStates[index] + (frame.language ? " (" + frame.language + ")" : "");
          if (pane.role === "interpreter" && frame.state !== "joined") { closePane(frame.conversation, text.ended); }
        }
        break;
      case "case": if (pane) { pane.status.textContent = text.case + " " + frame.reference; } break;
      case "verification":
        if (pane) { pane.status.textContent = results[["verified", "not_verified", "locked"].indexOf(frame.result)]; }
        break;
      case "safe_word":
        if (pane) { pane.alert.textContent = text.safeWord; pane.alert.hidden = false; }
        break;
      case "ended": closePane(frame.conversation, text.ended); break;
      case "error":
        if (frame.error === "overloaded") {
          window.setTimeout(function () {
            Object.keys(panes).forEach(function (id) { panes[id].outbox.forEach(send); });
          }, 1000);
        }
        showError(frame.error === "taken" ? text.taken : (frame.message || frame.error));
        break;
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.dataset.wsPath);
    socket.onopen = function () {
      retryDelay = 500;
      showError("");
      Object.keys(panes).forEach(function (id) {
        send({ type: "resume", conversation: id, last_seq: panes[id].seq });
        panes[id].outbox.forEach(send);
      });
    };
    socket.onmessage = function (event) { handle(JSON.parse(event.data)); };
    socket.onclose = function (event) {
      // Her session ended (or her access did): the page itself now leads to the sign-in form.
      if (event.code === 4403) { window.location.reload(); return; }
      window.setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 5000);
    };
  }

  connect();
})();
