// The server's HTTP API as the pages use it: JSON calls with the key, OpenAI-style error bodies
// turned into messages a person can act on, and the SSE stream of /v1/chat/completions.
"use strict";
window.Peregrine = window.Peregrine || {};

(function (P) {
  class APIError extends Error {
    constructor(status, message, { code = null, retryAfter = null, serverMessage = "" } = {}) {
      super(message);
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
      this.serverMessage = serverMessage;
    }
  }

  // What to tell a person for a status the server answered (serverMessage: the body's own words).
  function explain(status, serverMessage, code, retryAfter) {
    const wait = retryAfter ? ` Try again in ${retryAfter} s.` : "";
    const said = serverMessage ? ` (server: ${serverMessage})` : "";
    switch (status) {
      case 401:
        return "401 Unauthorized: this server needs a valid API key. Enter it under Settings → API key." + said;
      case 429:
        if (code === "insufficient_quota") {
          return "429: today's token allowance for this key is spent." + wait + said;
        }
        if (code === "rate_limit_exceeded") {
          return "429: too many requests for this key's rate limit." + wait + said;
        }
        return "429: the server's queue is full right now." + wait + said;
      case 503:
        return "503: the server cannot take this now (the model is loading, it is shutting down, or it is at its connection limit)." + wait + said;
      default:
        return `${status}: ${serverMessage || "the request failed."}`;
    }
  }

  async function errorFrom(response) {
    let serverMessage = "";
    let code = null;
    try {
      const body = await response.json();
      serverMessage = (body.error && body.error.message) || body.message || "";
      code = (body.error && body.error.code) || null;
    } catch (_) {
      // Not JSON (a proxy's page): the status alone has to do.
    }
    const retryAfter = response.headers.get("retry-after");
    return new APIError(response.status, explain(response.status, serverMessage, code, retryAfter), {
      code, retryAfter, serverMessage,
    });
  }

  function headers(key, json) {
    const h = {};
    if (json) h["Content-Type"] = "application/json";
    if (key) h["Authorization"] = "Bearer " + key;
    return h;
  }

  // GET or POST JSON; resolves to the parsed body, rejects with an APIError (or a network error).
  async function json(path, { method = "GET", body, key, signal } = {}) {
    const response = await fetch(path, {
      method,
      headers: headers(key, body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    if (!response.ok) throw await errorFrom(response);
    return response.json();
  }

  // POSTs a streaming chat request and calls onChunk with every parsed `data:` event until [DONE].
  // onResponse gets the response first (its x-ratelimit-* headers). Aborting `signal` cancels the
  // fetch: the server sees the connection close and frees the request's KV blocks.
  // `fresh` skips the server's result cache (Cache-Control: no-cache), as Regenerate wants.
  async function streamChat(body, { key, signal, fresh, onResponse, onChunk }) {
    const h = headers(key, true);
    if (fresh) h["Cache-Control"] = "no-cache";
    const response = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: h,
      body: JSON.stringify(body),
      signal,
    });
    if (!response.ok) throw await errorFrom(response);
    if (onResponse) onResponse(response);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
        const data = event
          .split(/\r?\n/)
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, ""))
          .join("\n");
        if (!data) continue;
        if (data === "[DONE]") return;
        const parsed = JSON.parse(data);
        if (parsed.error) {
          const e = parsed.error;
          throw new APIError(e.status || 500, explain(e.status || 500, e.message, e.code, null), {
            code: e.code, serverMessage: e.message,
          });
        }
        onChunk(parsed);
      }
    }
  }

  P.api = { APIError, explain, json, streamChat };
})(window.Peregrine);
