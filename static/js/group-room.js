// A participant's group chat page: the waiting room, then the room, over one
// WebSocket. Entries of the meeting's log (messages, the pinned resource,
// removals) are shown in sequence order, once; after a dropped connection the
// page says which number it saw last and gets the rest. Messages not yet
// acknowledged live in this tab's sessionStorage and go again after a
// reconnection (the server recognises them by their id). When the session
// ends for her (its end, being turned away or removed, leaving) the page is
// emptied and replaced, so neither it nor its history entry shows anything.
(function () {
  "use strict";
  var root = document.getElementById("group-room");
  if (!root) { return; }
  var text = root.dataset;
  var store = window.sessionStorage;
  var OUTBOX = "g.outbox";
  var $ = function (id) { return document.getElementById(id); };
  var socket = null;
  var finished = false;
  var retryDelay = 500;
  var shownSeq = 0;
  var pinnedSeq = null;
  var admitted = false;

  function outbox() {
    try { return JSON.parse(store.getItem(OUTBOX)) || []; } catch (e) { return []; }
  }
  function setOutbox(items) { store.setItem(OUTBOX, JSON.stringify(items)); }
  function acknowledge(clientId) {
    setOutbox(outbox().filter(function (item) { return item.client_id !== clientId; }));
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (content !== undefined) { node.textContent = content; }
    return node;
  }

  function status(message) { $("status").textContent = message; }
  function showError(message) { var box = $("room-error"); box.textContent = message; box.hidden = !message; }

  function bubble(who, body, className, seq, pendingId) {
    var item = el("li", "bubble " + className);
    if (seq) { item.setAttribute("data-seq", seq); }
    if (pendingId) { item.setAttribute("data-pending", pendingId); }
    var name = el("span", "who", who);
    name.setAttribute("dir", "auto");
    var paragraph = el("p", "", body);
    paragraph.setAttribute("dir", "auto");
    item.appendChild(name);
    item.appendChild(paragraph);
    $("messages").appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  function renderPending() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-pending]"), function (node) { node.remove(); });
    outbox().forEach(function (item) { bubble(text.youText, item.text, "from-self pending", null, item.client_id); });
  }

  function showMessage(frame) {
    if (frame.mine) { acknowledge(frame.client_id); }
    var who = frame.mine ? text.youText : (frame.role === "facilitator" ? text.facilitatorText : frame.from);
    var className = frame.mine ? "from-self" : (frame.role === "facilitator" ? "from-facilitator" : "from-other");
    bubble(who, frame.text, className, frame.seq);
    renderPending();
  }

  function setPinned(seq, body) {
    pinnedSeq = seq;
    $("pinned-text").textContent = body;
    $("pinned").hidden = !body;
  }

  function renderRoster(people) {
    var list = $("roster");
    list.textContent = "";
    people.forEach(function (person) {
      var item = el("li");
      var name = el("bdi", "", person.name);
      name.setAttribute("dir", "auto");
      item.appendChild(name);
      if (person.muted) { item.appendChild(el("span", "badge", text.mutedText)); }
      list.appendChild(item);
    });
  }

  function setMuted(muted) {
    $("muted-notice").hidden = !muted;
    $("text").disabled = muted;
    $("send").disabled = muted;
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function flushOutbox() {
    if (!admitted) { return; }
    outbox().forEach(function (item) { send({ type: "message", client_id: item.client_id, text: item.text }); });
  }

  // Leave nothing of the session in the page, its history entry or storage.
  function finish() {
    finished = true;
    store.clear();
    ["messages", "pinned-text", "roster"].forEach(function (id) { $(id).textContent = ""; });
    $("room").hidden = true;
    $("lobby").hidden = true;
    window.location.replace(text.leftUrl);
  }

  function handle(frame) {
    switch (frame.type) {
      case "waiting":
        admitted = false;
        $("room").hidden = true;
        $("lobby").hidden = false;
        status("");
        break;
      case "admitted":
        admitted = true;
        $("lobby").hidden = true;
        $("room").hidden = false;
        status("");
        setMuted(frame.muted);
        renderPending();
        flushOutbox();
        break;
      case "roster":
        renderRoster(frame.participants);
        break;
      case "pinned":
        setPinned(frame.seq, frame.text);
        break;
      case "pin":
        if (frame.seq <= shownSeq) { return; }
        shownSeq = frame.seq;
        setPinned(frame.seq, frame.text);
        break;
      case "message":
        if (frame.seq <= shownSeq) { return; }
        shownSeq = frame.seq;
        showMessage(frame);
        break;
      case "remove":
        shownSeq = Math.max(shownSeq, frame.seq);
        Array.prototype.forEach.call(document.querySelectorAll('[data-seq="' + frame.target + '"]'), function (node) { node.remove(); });
        if (pinnedSeq === frame.target) { setPinned(null, ""); }
        break;
      case "ack":
        acknowledge(frame.client_id);
        break;
      case "muted":
        setMuted(frame.muted);
        break;
      case "ended":
      case "closed":
      case "refused":
      case "removed":
      case "left":
        finish();
        break;
      case "error":
        if (frame.error === "overloaded") { window.setTimeout(flushOutbox, 1000); }
        showError(frame.message || "");
        break;
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + text.wsPath);
    socket.onopen = function () {
      retryDelay = 500;
      showError("");
      send({ type: "join", last_seq: shownSeq, language: text.language });
    };
    socket.onmessage = function (event) { handle(JSON.parse(event.data)); };
    socket.onclose = function (event) {
      if (finished) { return; }
      if (event.code === 4403 || event.code === 4404) { finish(); return; }
      status(text.reconnectingText);
      window.setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 5000);
    };
  }

  $("compose").addEventListener("submit", function (event) {
    event.preventDefault();
    var body = $("text").value.trim();
    if (!body) { return; }
    var item = { client_id: newId(), text: body };
    setOutbox(outbox().concat([item]));
    $("text").value = "";
    renderPending();
    send({ type: "message", client_id: item.client_id, text: item.text });
  });

  $("leave").addEventListener("click", function () {
    if (!send({ type: "leave" })) { finish(); return; }
    window.setTimeout(finish, 2000);
  });

  connect();
})();
