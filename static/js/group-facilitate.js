// The facilitator's console of a group chat: the waiting room, the people in
// the room and the log, over one WebSocket. Entries are shown in sequence
// order, once; after a dropped connection the console says which number it
// saw last and gets the rest, and sends again what was not acknowledged.
(function () {
  "use strict";
  var root = document.getElementById("facilitate");
  if (!root) { return; }
  var text = root.dataset;
  var $ = function (id) { return document.getElementById(id); };
  var socket = null;
  var finished = false;
  var retryDelay = 500;
  var shownSeq = 0;
  var pinnedSeq = null;
  var outbox = [];

  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (content !== undefined) { node.textContent = content; }
    return node;
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(frame)); }
  }

  function showError(message) { var box = $("facilitate-error"); box.textContent = message || ""; box.hidden = !message; }

  function button(label, frame) {
    var node = el("button", "", label);
    node.type = "button";
    node.addEventListener("click", function () { send(frame); });
    return node;
  }

  function person(entry) {
    var item = el("li");
    item.setAttribute("data-participant", entry.id);
    var name = el("bdi", "name", entry.name);
    name.setAttribute("dir", "auto");
    item.appendChild(name);
    if (!entry.here) { item.appendChild(el("span", "badge", text.away)); }
    if (entry.muted) { item.appendChild(el("span", "badge", text.muted)); }
    return item;
  }

  function renderPeople(listId, people, tools) {
    var list = $(listId);
    list.textContent = "";
    if (!people.length) { list.appendChild(el("li", "why", text.nobody)); }
    people.forEach(function (entry) {
      var item = person(entry);
      tools(entry).forEach(function (tool) { item.appendChild(tool); });
      list.appendChild(item);
    });
  }

  function renderWaiting(people) {
    renderPeople("waiting", people, function (entry) {
      return [
        button(text.admit, { type: "admit", participant: entry.id }),
        button(text.refuse, { type: "refuse", participant: entry.id })
      ];
    });
  }

  function renderRoster(people) {
    renderPeople("roster", people, function (entry) {
      return [
        entry.muted ? button(text.unmute, { type: "unmute", participant: entry.id })
          : button(text.mute, { type: "mute", participant: entry.id }),
        button(text.remove, { type: "remove", participant: entry.id })
      ];
    });
  }

  function setPinned(seq, body) {
    pinnedSeq = seq;
    $("pinned-text").textContent = body;
    $("pinned").hidden = !body;
  }

  function showEntry(frame) {
    var facilitator = frame.role === "facilitator";
    var item = el("li", "bubble " + (facilitator ? "from-facilitator" : "from-other") + (frame.type === "pin" ? " pin" : ""));
    item.setAttribute("data-seq", frame.seq);
    var who = el("span", "who", frame.mine ? text.you : (facilitator ? text.facilitator : frame.from));
    who.setAttribute("dir", "auto");
    item.appendChild(who);
    var body = el("p", "", frame.text);
    body.setAttribute("dir", "auto");
    item.appendChild(body);
    item.appendChild(button(text.removeMessage, { type: "remove_message", seq: frame.seq }));
    $("messages").appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  function handle(frame) {
    switch (frame.type) {
      case "waiting_room": renderWaiting(frame.waiting); break;
      case "roster": renderRoster(frame.participants); break;
      case "message":
      case "pin":
        if (frame.seq <= shownSeq) { return; }
        shownSeq = frame.seq;
        if (frame.mine) { outbox = outbox.filter(function (entry) { return entry.client_id !== frame.client_id; }); }
        if (frame.type === "pin") { setPinned(frame.seq, frame.text); }
        showEntry(frame);
        break;
      case "remove":
        shownSeq = Math.max(shownSeq, frame.seq);
        Array.prototype.forEach.call(document.querySelectorAll('[data-seq="' + frame.target + '"]'), function (node) { node.remove(); });
        if (pinnedSeq === frame.target) { setPinned(null, ""); }
        break;
      case "ack":
        outbox = outbox.filter(function (entry) { return entry.client_id !== frame.client_id; });
        break;
      case "ended":
        finished = true;
        ["messages", "waiting", "roster", "pinned-text"].forEach(function (id) { $(id).textContent = ""; });
        $("facilitate-live").hidden = true;
        $("facilitate-ended").textContent = text.ended;
        $("facilitate-ended").hidden = false;
        break;
      case "error":
        if (frame.error === "overloaded") { window.setTimeout(function () { outbox.forEach(send); }, 1000); }
        showError(frame.message || frame.error);
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
      outbox.forEach(send);
    };
    socket.onmessage = function (event) { handle(JSON.parse(event.data)); };
    socket.onclose = function (event) {
      if (finished || event.code === 4403 || event.code === 4404) { return; }
      window.setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 5000);
    };
  }

  function post(type) {
    var value = $("text").value.trim();
    if (!value) { return; }
    var item = { type: type, client_id: newId(), text: value };
    outbox.push(item);
    $("text").value = "";
    send(item);
  }

  $("compose").addEventListener("submit", function (event) { event.preventDefault(); post("message"); });
  $("pin").addEventListener("click", function () { post("pin"); });
  $("end-session").addEventListener("click", function () { send({ type: "end" }); });

  connect();
})();
