// The survivor's chat. The conversation's resume token and the messages not
// yet acknowledged live in this tab's sessionStorage only, so a reload or a
// dropped connection resumes the same chat (a reload asks for every message
// again; a reconnection only for those after the last one shown), and nothing
// survives the end of the chat or the tab.
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root) { return; }
  var store = window.sessionStorage;
  var KEYS = { token: "c.token", outbox: "c.outbox", ticket: "c.ticket" };
  var $ = function (id) { return document.getElementById(id); };
  var socket = null;
  var ended = false;
  var retryDelay = 500;
  var shownSeq = 0;
  var unansweredTimer = null;

  function read(key, fallback) {
    try { var value = store.getItem(key); return value === null ? fallback : JSON.parse(value); }
    catch (e) { return fallback; }
  }
  function write(key, value) { store.setItem(key, JSON.stringify(value)); }
  function outbox() { return read(KEYS.outbox, []); }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function status(text) { $("status").textContent = text; }
  function showError(text) { var box = $("chat-error"); box.textContent = text; box.hidden = !text; }

  function bubble(from, text, pendingId) {
    var item = document.createElement("li");
    item.className = "bubble from-" + from + (pendingId ? " pending" : "");
    if (pendingId) { item.setAttribute("data-pending", pendingId); }
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = {
      survivor: root.dataset.youText,
      interpreter: root.dataset.interpreterText,
      system: root.dataset.noticeText
    }[from] || root.dataset.workerText;
    var body = document.createElement("p");
    body.setAttribute("dir", "auto");
    body.textContent = text;
    item.appendChild(who);
    item.appendChild(body);
    $("messages").appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  function renderPending() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-pending]"), function (node) { node.remove(); });
    outbox().forEach(function (item) { bubble("survivor", item.text, item.client_id); });
  }

  function openConversation() {
    $("safety-check").hidden = true;
    $("conversation").hidden = false;
  }

  // Leave nothing of the conversation in the page, its history entry or storage,
  // and go where she is told why it ended (by the reason the server gave).
  function finish(reason) {
    ended = true;
    store.clear();
    $("messages").textContent = "";
    $("conversation").hidden = true;
    window.location.replace(root.dataset.endedUrl + "?reason=" + encodeURIComponent(reason));
  }

  // The time left, as minutes and as the clock shows it, so it never goes stale.
  function warnOfSilence(minutes) {
    var closesAt = new Date(Date.now() + minutes * 60000);
    $("silence-warning").textContent = root.dataset.silenceText
      .replace("{minutes}", minutes)
      .replace("{time}", closesAt.toLocaleTimeString(root.dataset.language, { hour: "2-digit", minute: "2-digit" }));
    $("silence-warning").hidden = false;
    $("compose").scrollIntoView({ block: "end" });
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function flushOutbox() {
    outbox().forEach(function (item) { send({ type: "message", client_id: item.client_id, text: item.text }); });
  }

  function handle(frame) {
    switch (frame.type) {
      case "started":
        write(KEYS.token, frame.token);
        store.removeItem(KEYS.ticket);
        openConversation();
        break;
      case "waiting":
        openConversation();
        status(root.dataset.waitingText.replace("{position}", frame.position));
        $("waiting-help").hidden = false;
        window.clearTimeout(unansweredTimer);
        unansweredTimer = window.setTimeout(function () { $("unanswered").hidden = false; }, frame.unanswered_in * 1000);
        break;
      case "active":
        openConversation();
        window.clearTimeout(unansweredTimer);
        $("waiting-help").hidden = true;
        status("");
        flushOutbox();
        break;
      case "message":
        if (frame.seq <= shownSeq) { return; }
        shownSeq = frame.seq;
        if (frame.from === "survivor") {
          write(KEYS.outbox, outbox().filter(function (item) { return item.client_id !== frame.client_id; }));
          $("silence-warning").hidden = true;
        }
        bubble(frame.from, frame.text);
        renderPending();
        break;
      case "ack":
        write(KEYS.outbox, outbox().filter(function (item) { return item.client_id !== frame.client_id; }));
        break;
      case "interpreter_consent":
        $("interpreter-question").textContent = root.dataset.consentText.replace("{language}", frame.language);
        $("interpreter-consent").hidden = false;
        break;
      case "case":
        $("case-tools").hidden = false;
        break;
      case "code_word_prompt":
        openPrompt(frame.purpose);
        break;
      case "code_word_done":
        closePrompt();
        break;
      case "silence_warning":
        warnOfSilence(frame.closes_in_minutes);
        break;
      case "ended":
        finish(frame.reason);
        break;
      case "error":
        // Her chat ended while she was away from it.
        if (frame.error === "ended" || frame.error === "unknown") { finish("abandoned"); return; }
        if (frame.error === "blocked") { finish("blocked"); return; }
        if (frame.error === "overloaded") { window.setTimeout(flushOutbox, 1000); }
        showError(frame.message || "");
        break;
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.dataset.wsPath);
    socket.onopen = function () {
      retryDelay = 500;
      showError("");
      var token = read(KEYS.token, null);
      if (token) {
        send({ type: "resume", token: token, last_seq: shownSeq });
      } else {
        var safety = document.querySelector("input[name=safety]:checked");
        send({
          type: "start",
          ticket: read(KEYS.ticket, ""),
          safety: safety ? safety.value : "unanswered",
          language: root.dataset.language
        });
      }
    };
    socket.onmessage = function (event) { handle(JSON.parse(event.data)); };
    socket.onclose = function () {
      if (ended) { return; }
      status(root.dataset.reconnectingText);
      window.setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 5000);
    };
  }

  // The page was reached by a form: make its history entry a plain address, so
  // a reload asks for nothing and Back does not resend anything.
  if (root.dataset.ticket) {
    write(KEYS.ticket, root.dataset.ticket);
    window.history.replaceState(null, "", root.dataset.chatUrl);
  }

  Array.prototype.forEach.call(document.querySelectorAll("input[name=safety]"), function (input) {
    input.addEventListener("change", function () { $("safer-ways").hidden = input.value !== "worried" || !input.checked; });
  });

  $("start-chat").addEventListener("click", function () {
    $("start-chat").disabled = true;
    connect();
  });

  $("compose").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = $("text").value.trim();
    if (!text) { return; }
    var item = { client_id: newId(), text: text };
    write(KEYS.outbox, outbox().concat([item]));
    $("text").value = "";
    renderPending();
    send({ type: "message", client_id: item.client_id, text: item.text });
  });

  // The private prompt: what is typed here is sent once, for its check, and
  // never shown in the conversation.
  var promptPurpose = null;
  function openPrompt(purpose) {
    promptPurpose = purpose === "change" ? "set" : purpose;
    ["set", "verify", "change", "safe"].forEach(function (name) {
      $("code-word-" + name).hidden = name !== (purpose === "safe_word" ? "safe" : purpose);
    });
    $("current-label").hidden = $("current-word").hidden = purpose !== "change";
    $("code-word").hidden = false;
    $("secret-word").focus();
  }
  function closePrompt() {
    $("secret-word").value = "";
    $("current-word").value = "";
    $("code-word").hidden = true;
    promptPurpose = null;
  }
  $("code-word").addEventListener("submit", function (event) {
    event.preventDefault();
    var frame = { type: "code_word", purpose: promptPurpose, word: $("secret-word").value };
    if (!$("current-word").hidden) { frame.current = $("current-word").value; }
    send(frame);
  });
  $("code-word-cancel").addEventListener("click", closePrompt);
  $("change-code-word").addEventListener("click", function () { openPrompt("change"); });
  $("choose-safe-word").addEventListener("click", function () { openPrompt("safe_word"); });
  $("interpreter-yes").addEventListener("click", function () {
    send({ type: "interpreter_answer", agree: true });
    $("interpreter-consent").hidden = true;
  });
  $("interpreter-no").addEventListener("click", function () {
    send({ type: "interpreter_answer", agree: false });
    $("interpreter-consent").hidden = true;
  });

  $("end-chat").addEventListener("click", function () {
    if (!send({ type: "end" })) { finish("survivor_ended"); }
  });

  if (read(KEYS.token, null)) {
    openConversation();
    renderPending();
    connect();
  } else if (!read(KEYS.ticket, "")) {
    $("start-chat").hidden = true;
    $("no-ticket").hidden = false;
  }
})();
