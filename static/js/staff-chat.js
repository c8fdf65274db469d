// The support worker's console: the shared queue and her conversations, over
// one WebSocket. Messages are shown in sequence order, once; messages not yet
// acknowledged are sent again after a reconnection (the server recognises
// them by their id and does not store them twice).
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root) { return; }
  var text = root.dataset;
  var canned = JSON.parse(document.getElementById("canned-messages").textContent);
  var socket = null;
  var retryDelay = 500;
  var panes = {};
  var $ = function (id) { return document.getElementById(id); };

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
      var accept = el("button", "accept", text.accept);
      accept.type = "button";
      accept.addEventListener("click", function () { send({ type: "accept", conversation: item.conversation }); });
      cell.appendChild(accept);
      row.appendChild(cell);
      body.appendChild(row);
    });
  }

  function openPane(frame) {
    var id = frame.conversation;
    if (panes[id]) { return panes[id]; }
    var pane = { id: id, seq: 0, outbox: [], node: el("section", "pane") };
    pane.node.setAttribute("data-conversation", id);
    pane.node.appendChild(el("p", frame.safety === "worried" ? "alert safety" : "safety", safetyLabel(frame.safety)));
    pane.notice = el("p", "notice");
    pane.notice.setAttribute("role", "status");
    pane.node.appendChild(pane.notice);
    pane.list = el("ol", "messages-list");
    pane.node.appendChild(pane.list);
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
    pane.node.appendChild(form);
    var tools = el("div", "tools");
    canned.forEach(function (entry) {
      var button = el("button", "canned", entry.title);
      button.type = "button";
      button.addEventListener("click", function () {
        var item = { type: "canned", conversation: id, canned: entry.id, client_id: newId() };
        pane.outbox.push(item);
        send(item);
      });
      tools.appendChild(button);
    });
    var end = el("button", "end", text.end);
    end.type = "button";
    end.addEventListener("click", function () { send({ type: "end", conversation: id }); });
    tools.appendChild(end);
    var block = el("button", "block", text.block);
    block.type = "button";
    block.addEventListener("click", function () { send({ type: "block", conversation: id, hours: 24 }); });
    tools.appendChild(block);
    pane.node.appendChild(tools);
    $("conversations").appendChild(pane.node);
    panes[id] = pane;
    return pane;
  }

  function handle(frame) {
    var pane = frame.conversation ? panes[frame.conversation] : null;
    switch (frame.type) {
      case "queue": renderQueue(frame); break;
      case "conversation":
        openPane(frame);
        panes[frame.conversation].notice.textContent = frame.connected ? "" : text.left;
        break;
      case "message":
        pane = pane || openPane(frame);
        if (frame.seq <= pane.seq) { return; }
        pane.seq = frame.seq;
        var item = el("li", "bubble from-" + frame.from);
        item.appendChild(el("span", "who", frame.from === "survivor" ? text.she : text.you));
        var body = el("p", "", frame.text);
        body.setAttribute("dir", "auto");
        item.appendChild(body);
        pane.list.appendChild(item);
        if (frame.from === "survivor") { pane.notice.textContent = ""; }
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
      case "ended":
        if (pane) {
          pane.list.textContent = "";
          pane.node.textContent = "";
          pane.node.appendChild(el("p", "notice", text.ended));
          delete panes[frame.conversation];
        }
        break;
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
    socket.onclose = function () {
      window.setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 5000);
    };
  }

  connect();
})();
