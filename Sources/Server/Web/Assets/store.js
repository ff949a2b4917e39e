// What the playground keeps in this browser's localStorage: the conversations, which one is
// open, the sampling settings and the API key. Nothing leaves the browser except in API calls.
"use strict";
window.Peregrine = window.Peregrine || {};

(function (P) {
  const CONVERSATIONS = "peregrine.conversations";
  const CURRENT = "peregrine.current";
  const SETTINGS = "peregrine.settings";
  const KEY = "peregrine.apiKey";

  function read(name, fallback) {
    try {
      const text = localStorage.getItem(name);
      return text === null ? fallback : JSON.parse(text);
    } catch (_) {
      return fallback; // unreadable or hand-edited: start over rather than fail to open
    }
  }

  function write(name, value) {
    try {
      localStorage.setItem(name, JSON.stringify(value));
      return true;
    } catch (_) {
      return false; // storage full or disabled (private mode): the page still works this session
    }
  }

  function newId() {
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
  }

  // A conversation: its messages ({role, content, figures?, status?}), system prompt and title.
  function newConversation() {
    const now = Date.now();
    return { id: newId(), title: "New chat", system: "", messages: [], created: now, updated: now };
  }

  function conversations() {
    const list = read(CONVERSATIONS, []);
    return Array.isArray(list) ? list.filter((c) => c && typeof c.id === "string" && Array.isArray(c.messages)) : [];
  }

  function saveConversations(list) {
    return write(CONVERSATIONS, list);
  }

  // A title from the first user message, short enough for the list.
  function titleFor(conversation) {
    const first = conversation.messages.find((m) => m.role === "user");
    if (!first) return "New chat";
    const text = first.content.replace(/\s+/g, " ").trim();
    return text.length > 48 ? text.slice(0, 47) + "…" : text || "New chat";
  }

  // The JSON file "Export" downloads: every conversation with its figures, in OpenAI's message shape.
  function exportJSON(list) {
    return JSON.stringify({ object: "peregrine.conversations", exported_at: new Date().toISOString(), conversations: list }, null, 2);
  }

  P.store = {
    conversations,
    saveConversations,
    newConversation,
    titleFor,
    exportJSON,
    currentId: () => read(CURRENT, null),
    setCurrentId: (id) => write(CURRENT, id),
    settings: () => read(SETTINGS, {}),
    saveSettings: (s) => write(SETTINGS, s),
    apiKey: () => read(KEY, ""),
    saveApiKey: (k) => write(KEY, k),
  };
})(window.Peregrine);
