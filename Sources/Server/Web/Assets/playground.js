// The playground's controller: sends the conversation to /v1/chat/completions as a stream, shows
// the reply and its figures as they come, stops (aborting the fetch frees the server's request),
// regenerates, edits and resends, counts the draft's tokens with the server's tokenizer, and keeps
// every conversation in localStorage.
"use strict";
window.Peregrine = window.Peregrine || {};

(function (P) {
  const $ = (id) => document.getElementById(id);
  const PARAMS = ["temperature", "top_p", "max_tokens", "seed"];

  const state = {
    conversations: [],
    current: null,
    model: null, // the served model's id, from /v1/stats
    running: null, // { abort: AbortController, index } while a reply streams
  };
  let transcript;

  // MARK: conversations

  function save() {
    state.current.updated = Date.now();
    state.current.title = P.store.titleFor(state.current);
    P.store.saveConversations(state.conversations);
  }

  function open(conversation) {
    state.current = conversation;
    P.store.setCurrentId(conversation.id);
    $("system").value = conversation.system || "";
    transcript.show(conversation, !!state.running);
    renderList();
    countTokens();
  }

  function renderList() {
    const items = [...state.conversations]
      .sort((a, b) => b.updated - a.updated)
      .map((c) => {
        const li = document.createElement("li");
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = c.title || "New chat";
        b.title = c.title || "New chat";
        if (c === state.current) b.setAttribute("aria-current", "true");
        b.addEventListener("click", () => {
          if (state.running) return notice("Stop the running reply before switching chats.");
          open(c);
          drawer(false);
        });
        li.appendChild(b);
        return li;
      });
    $("chat-list").replaceChildren(...items);
  }

  function newChat() {
    if (state.running) return;
    const c = P.store.newConversation();
    state.conversations.push(c);
    P.store.saveConversations(state.conversations);
    open(c);
    drawer(false);
    $("prompt").focus();
  }

  function deleteChat() {
    if (state.running) return;
    state.conversations = state.conversations.filter((c) => c !== state.current);
    P.store.saveConversations(state.conversations);
    if (state.conversations.length === 0) state.conversations.push(P.store.newConversation());
    open(state.conversations.reduce((a, b) => (a.updated >= b.updated ? a : b)));
  }

  function exportAll() {
    const blob = new Blob([P.store.exportJSON(state.conversations)], { type: "application/json" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "peregrine-conversations.json";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }

  // MARK: notices and settings

  function notice(text) {
    const n = $("notice");
    n.textContent = text || "";
    n.hidden = !text;
  }

  function key() {
    return $("api-key").value.trim();
  }

  function readSettings() {
    const s = {};
    for (const name of PARAMS) {
      const v = $(name).value.trim();
      if (v !== "" && isFinite(Number(v))) s[name] = Number(v);
    }
    return s;
  }

  function loadSettings() {
    const s = P.store.settings();
    for (const name of PARAMS) $(name).value = s[name] !== undefined ? s[name] : "";
    $("api-key").value = P.store.apiKey();
  }

  // The messages sent for the reply at `upTo` (exclusive): the system prompt, then the turns.
  function messagesFor(upTo, draft) {
    const out = [];
    const system = ($("system").value || "").trim();
    if (system) out.push({ role: "system", content: system });
    for (const m of state.current.messages.slice(0, upTo)) out.push({ role: m.role, content: m.content });
    if (draft) out.push({ role: "user", content: draft });
    return out;
  }

  // MARK: sending and streaming

  function send(text) {
    if (state.running || !text.trim()) return;
    state.current.messages.push({ role: "user", content: text });
    $("prompt").value = "";
    save();
    reply();
  }

  function regenerate() {
    if (state.running) return;
    const messages = state.current.messages;
    if (messages.length && messages[messages.length - 1].role === "assistant") messages.pop();
    if (!messages.length) return;
    reply({ fresh: true });
  }

  function editAndResend(index, text) {
    if (state.running) return;
    state.current.messages.splice(index);
    state.current.messages.push({ role: "user", content: text });
    save();
    reply();
  }

  async function reply({ fresh = false } = {}) {
    notice("");
    const conversation = state.current;
    const index = conversation.messages.length;
    const message = { role: "assistant", content: "", figures: {} };
    const body = Object.assign(
      { messages: messagesFor(index), stream: true, stream_options: { include_usage: true } },
      readSettings());
    if (state.model) body.model = state.model;
    conversation.messages.push(message);
    const abort = new AbortController();
    state.running = { abort, index };
    busy(true);
    transcript.show(conversation, true);

    const started = performance.now();
    let first = null;
    let chunks = 0;
    let pending = false;
    const redraw = () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        if (state.current === conversation) transcript.update(index);
      });
    };
    try {
      await P.api.streamChat(body, {
        key: key(),
        signal: abort.signal,
        fresh,
        onResponse: (response) => {
          allowanceFromHeaders(response.headers);
          // A deterministic request the server answered from its result cache: say so.
          if (response.headers.get("x-cache") === "hit") message.figures.cache = "hit";
        },
        onChunk: (chunk) => {
          const choice = chunk.choices && chunk.choices[0];
          const f = message.figures;
          if (choice && choice.delta && typeof choice.delta.content === "string" && choice.delta.content) {
            const now = performance.now();
            if (first === null) {
              first = now;
              f.ttft_s = (now - started) / 1000; // the browser's measure until the server's arrives
            }
            chunks += 1;
            message.content += choice.delta.content;
            if (chunks > 1) f.tps = (chunks - 1) / ((now - first) / 1000);
            f.completion_tokens = chunks;
          }
          if (choice && choice.finish_reason === "length") message.status = "length";
          const t = chunk.timings;
          if (t) {
            f.queue_s = t.queue_s;
            f.ttft_s = t.ttft_s;
            if (t.predicted_per_second > 0) f.tps = t.predicted_per_second;
            f.prompt_tokens = t.prompt_n;
            f.cached_tokens = t.cached_n;
            f.completion_tokens = t.predicted_n;
          }
          const u = chunk.usage;
          if (u) {
            f.prompt_tokens = u.prompt_tokens;
            f.cached_tokens = (u.prompt_tokens_details && u.prompt_tokens_details.cached_tokens) || 0;
            f.completion_tokens = u.completion_tokens;
            if (u.cost) f.cost = u.cost.total;
          }
          redraw();
        },
      });
    } catch (error) {
      if (error.name === "AbortError") {
        message.status = "stopped";
      } else {
        const text = error instanceof P.api.APIError ? error.message : "The server could not be reached: " + error.message;
        notice(text);
        if (error.status === 401) wantKey(true);
        if (message.content) message.status = "error:" + text;
        else conversation.messages.pop(); // nothing came: leave the question for Retry
      }
    } finally {
      state.running = null;
      busy(false);
      if (state.current === conversation) {
        save();
        transcript.show(conversation, false);
      } else {
        P.store.saveConversations(state.conversations);
      }
      renderList();
      countTokens();
    }
  }

  function stop() {
    if (state.running) state.running.abort.abort();
  }

  function busy(on) {
    $("stop").hidden = !on;
    $("send").disabled = on;
    if (on) $("stop").focus();
    else if (document.activeElement === $("stop") || document.activeElement === document.body) $("prompt").focus();
  }

  // MARK: the token counter and the allowance

  let countTimer = null;
  let countAbort = null;

  // Debounced: the draft's prompt tokens as the server counts them (its tokenizer and chat
  // template), the cost range where prices exist, and what is left of today's allowance.
  function countTokens() {
    clearTimeout(countTimer);
    countTimer = setTimeout(async () => {
      if (countAbort) countAbort.abort();
      countAbort = new AbortController();
      const body = { messages: messagesFor(state.current.messages.length, $("prompt").value) };
      if (body.messages.length === 0) body.messages.push({ role: "user", content: "" });
      if (state.model) body.model = state.model;
      const s = readSettings();
      if (s.max_tokens) body.max_tokens = s.max_tokens;
      try {
        const e = await P.api.json("/v1/usage/estimate", { method: "POST", body, key: key(), signal: countAbort.signal });
        let text = `${e.prompt_tokens} tokens in`;
        if (e.cost) text += ` · ${P.format.dollars(e.cost.min)}–${P.format.dollars(e.cost.max)}`;
        $("counter").textContent = text;
        $("counter").dataset.tokens = String(e.prompt_tokens);
        if (e.allowance) showAllowance(e.allowance.remaining_tokens, e.allowance.resets_at);
      } catch (error) {
        if (error.name === "AbortError") return;
        $("counter").textContent = error.status === 401 ? "token count needs the API key" : "";
      }
    }, 300);
  }

  function showAllowance(remaining, resetsAt) {
    if (remaining === null || remaining === undefined) {
      $("allowance").textContent = "";
      return;
    }
    let text = `${Number(remaining).toLocaleString()} tokens left today`;
    if (resetsAt) {
      const at = new Date(Number(resetsAt) * 1000);
      text += ` (resets ${at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })})`;
    }
    $("allowance").textContent = text;
  }

  function allowanceFromHeaders(headers) {
    const remaining = headers.get("x-ratelimit-remaining-tokens");
    if (remaining !== null) showAllowance(remaining, null);
  }

  function wantKey(on) {
    $("key-row").classList.toggle("wanted", on);
    $("key-hint").textContent = on
      ? "This server needs an API key: enter it here. Kept in this browser only."
      : "Kept in this browser only (localStorage), sent as a Bearer token.";
    if (on) $("settings").open = true;
  }

  // MARK: server state

  async function pollServer() {
    try {
      const s = await P.api.json("/v1/stats");
      state.model = s.model;
      $("model").textContent = s.model;
      const st = $("server-state");
      st.textContent = s.status === "ok" ? "ready" : s.status;
      st.className = "state " + (s.status === "ok" ? "ok" : "bad");
      st.dataset.running = String(s.requests_running);
      if (s.api_key_required && !key()) wantKey(true);
    } catch (error) {
      const st = $("server-state");
      st.textContent = "unreachable";
      st.className = "state bad";
    }
  }

  function drawer(open) {
    $("chats").classList.toggle("open", open);
    $("toggle-chats").setAttribute("aria-expanded", String(open));
  }

  // MARK: start

  function start() {
    transcript = new P.Transcript($("transcript"), { onEdit: editAndResend, onRegenerate: regenerate });
    loadSettings();
    state.conversations = P.store.conversations();
    if (state.conversations.length === 0) state.conversations.push(P.store.newConversation());
    const id = P.store.currentId();
    open(state.conversations.find((c) => c.id === id) || state.conversations[state.conversations.length - 1]);
    if (window.matchMedia("(max-width: 700px)").matches) $("settings").open = false;

    $("composer").addEventListener("submit", (e) => {
      e.preventDefault();
      send($("prompt").value);
    });
    $("prompt").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        send($("prompt").value);
      }
    });
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && state.running) stop();
    });
    $("prompt").addEventListener("input", countTokens);
    $("system").addEventListener("input", () => {
      state.current.system = $("system").value;
      save();
      countTokens();
    });
    for (const name of PARAMS) {
      $(name).addEventListener("change", () => {
        P.store.saveSettings(readSettings());
        countTokens();
      });
    }
    $("api-key").addEventListener("change", () => {
      P.store.saveApiKey(key());
      wantKey(false);
      notice("");
      countTokens();
    });
    $("stop").addEventListener("click", stop);
    $("new-chat").addEventListener("click", newChat);
    $("delete-chat").addEventListener("click", deleteChat);
    $("export").addEventListener("click", exportAll);
    $("toggle-chats").addEventListener("click", () => drawer(!$("chats").classList.contains("open")));
    pollServer();
    setInterval(pollServer, 5000);
  }

  // Tests reach the real renderer and state through this (the page itself does not need it).
  P.playground = { state, send, stop, regenerate };

  document.addEventListener("DOMContentLoaded", start);
})(window.Peregrine);
