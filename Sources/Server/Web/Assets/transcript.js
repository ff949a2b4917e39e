// The message list of one conversation: user text as plain text, replies through the Markdown
// renderer, each reply's figures (queue wait, TTFT, tokens/s, tokens in/cached/out, cost), and the
// actions on messages (edit and resend, regenerate, copy).
"use strict";
window.Peregrine = window.Peregrine || {};

(function (P) {
  function element(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  const { seconds, dollars } = P.format;

  // [class, label, text] for each figure known so far; `live` ones are the browser's own measure
  // until the server's timings arrive with the last chunk.
  function figureList(f) {
    const out = [];
    const add = (cls, label, text) => {
      if (text !== null && text !== undefined) out.push([cls, label, text]);
    };
    add("fig-queue", "queue", seconds(f.queue_s));
    add("fig-ttft", "TTFT", seconds(f.ttft_s));
    add("fig-tps", "tok/s", f.tps !== undefined && f.tps !== null && isFinite(f.tps) ? f.tps.toFixed(1) : null);
    add("fig-in", "in", f.prompt_tokens);
    add("fig-cached", "cached", f.cached_tokens);
    add("fig-out", "out", f.completion_tokens);
    add("fig-cost", "cost", dollars(f.cost));
    add("fig-cache", "result cache", f.cache);
    return out;
  }

  const STATUS = {
    stopped: "Stopped.",
    length: "Cut off at the max-tokens limit.",
  };

  class Transcript {
    constructor(list, handlers) {
      this.list = list;
      this.handlers = handlers;
      this.busy = false;
    }

    // Renders every message; `busy` (a reply is streaming) hides the actions.
    show(conversation, busy) {
      this.conversation = conversation;
      this.busy = busy;
      const items = conversation.messages.map((m, i) => this.item(m, i));
      if (items.length === 0) {
        const empty = element("li", "empty", "Send a message to start. Replies stream in with their timings.");
        items.push(empty);
      }
      this.list.replaceChildren(...items);
      this.scroll();
    }

    // Redraws one message in place while its reply streams.
    update(index) {
      const old = this.list.children[index];
      const fresh = this.item(this.conversation.messages[index], index);
      if (old) old.replaceWith(fresh);
      else this.list.appendChild(fresh);
      this.scroll();
    }

    scroll() {
      const l = this.list;
      // Follow the reply only when the reader is already at the bottom.
      if (l.scrollHeight - l.scrollTop - l.clientHeight < 120 || this.busy) l.scrollTop = l.scrollHeight;
    }

    item(message, index) {
      const li = element("li", "message " + (message.role === "user" ? "user" : "assistant"));
      li.dataset.index = String(index);
      li.appendChild(element("div", "role", message.role === "user" ? "You" : "Assistant"));
      if (message.role === "user") {
        li.appendChild(element("div", "plain content", message.content));
      } else {
        const content = element("div", "content");
        P.markdown.render(message.content, content);
        li.appendChild(content);
        li.appendChild(this.figures(message));
      }
      if (message.status) {
        const error = message.status.startsWith("error:");
        li.appendChild(element("div", "status" + (error ? " error" : ""), error ? message.status.slice(6) : STATUS[message.status] || ""));
      }
      if (!this.busy) li.appendChild(this.actions(message, index));
      return li;
    }

    figures(message) {
      const box = element("div", "figures");
      box.setAttribute("aria-label", "Figures of this reply");
      for (const [cls, label, text] of figureList(message.figures || {})) {
        const span = element("span", "fig " + cls);
        span.appendChild(element("b", null, label));
        span.appendChild(document.createTextNode(" " + text));
        box.appendChild(span);
      }
      return box;
    }

    actions(message, index) {
      const bar = element("div", "actions");
      const last = index === this.conversation.messages.length - 1;
      const button = (text, title, action) => {
        const b = element("button", null, text);
        b.type = "button";
        b.title = title;
        b.addEventListener("click", action);
        bar.appendChild(b);
        return b;
      };
      if (message.role === "user") {
        button("Edit", "Edit this message and send it again (later messages are dropped)", () => this.edit(index));
        if (last) button("Retry", "Send this message again", () => this.handlers.onRegenerate());
      } else {
        if (last) button("Regenerate", "Ask for another reply to the same messages", () => this.handlers.onRegenerate());
        button("Copy", "Copy the reply's text", () => navigator.clipboard && navigator.clipboard.writeText(message.content));
      }
      return bar;
    }

    // Swaps a user message for an editor; Ctrl+Enter sends, Escape cancels.
    edit(index) {
      const li = this.list.children[index];
      const message = this.conversation.messages[index];
      const area = element("textarea");
      area.rows = Math.min(12, Math.max(3, message.content.split("\n").length + 1));
      area.value = message.content;
      area.setAttribute("aria-label", "Edit message");
      const bar = element("div", "actions");
      const send = element("button", "primary", "Send");
      send.type = "button";
      const cancel = element("button", null, "Cancel");
      cancel.type = "button";
      bar.append(send, cancel);
      const done = () => this.show(this.conversation, this.busy);
      send.addEventListener("click", () => {
        if (area.value.trim()) this.handlers.onEdit(index, area.value);
      });
      cancel.addEventListener("click", done);
      area.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          send.click();
        } else if (e.key === "Escape") {
          e.preventDefault();
          done();
        }
      });
      li.replaceChildren(element("div", "role", "You (editing)"), area, bar);
      area.focus();
    }
  }

  P.Transcript = Transcript;
})(window.Peregrine);
