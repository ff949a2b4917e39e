// A small Markdown renderer for model output that never parses HTML: every piece of text becomes a
// text node (createTextNode / textContent), so `<script>` or `<img onerror=…>` in a reply shows as
// the characters it is. Handles what chat models write: fenced code, inline code, headings,
// lists, quotes, bold, italics, http(s) links and paragraphs. Text still streaming in (an
// unclosed fence) renders as far as it goes.
"use strict";
window.Peregrine = window.Peregrine || {};

(function (P) {
  const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([\w.+#-]*)\s*$/;
  const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
  const BULLET = /^\s{0,3}[-*+]\s+(.*)$/;
  const NUMBERED = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;
  const QUOTE = /^\s{0,3}>\s?(.*)$/;
  // Inline: `code`, **bold** / __bold__, *italic* / _italic_, [text](http…). Underscores inside a
  // word (snake_case, __dunder__ names) are not emphasis, as in CommonMark.
  const INLINE = /(`+)([\s\S]*?[^`])\1(?!`)|\*\*(?=\S)([\s\S]*?\S)\*\*|(?<!\w)__(?=\S)([\s\S]*?\S)__(?!\w)|\*(?=[^\s*])([^*]*?[^\s*])\*|(?<!\w)_(?=[^\s_])([^_]*?[^\s_])_(?!\w)|\[([^\]\n]+)\]\((https?:\/\/[^\s()]+)\)/;

  function element(tag, className) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    return e;
  }

  // Appends `text` to `parent` with inline formatting; only text nodes and fixed tags are made.
  function inline(text, parent) {
    let rest = text;
    while (rest.length > 0) {
      const m = INLINE.exec(rest);
      if (!m) {
        parent.appendChild(document.createTextNode(rest));
        return;
      }
      if (m.index > 0) parent.appendChild(document.createTextNode(rest.slice(0, m.index)));
      if (m[1] !== undefined) {
        const code = element("code");
        code.textContent = m[2].replace(/^ (.*) $/, "$1");
        parent.appendChild(code);
      } else if (m[3] !== undefined || m[4] !== undefined) {
        const strong = element("strong");
        inline(m[3] !== undefined ? m[3] : m[4], strong);
        parent.appendChild(strong);
      } else if (m[5] !== undefined || m[6] !== undefined) {
        const em = element("em");
        inline(m[5] !== undefined ? m[5] : m[6], em);
        parent.appendChild(em);
      } else {
        // Only absolute http(s) URLs become links (no javascript: or data:), opened apart.
        const a = element("a");
        a.href = m[8];
        a.rel = "noopener noreferrer nofollow";
        a.target = "_blank";
        a.textContent = m[7];
        parent.appendChild(a);
      }
      rest = rest.slice(m.index + m[0].length);
    }
  }

  function paragraph(lines, parent) {
    const p = element("p");
    lines.forEach((line, i) => {
      if (i > 0) p.appendChild(element("br"));
      inline(line, p);
    });
    parent.appendChild(p);
  }

  // Renders `text` into `container`, replacing what it held.
  function render(text, container) {
    const out = document.createDocumentFragment();
    const lines = String(text).replace(/\r\n?/g, "\n").split("\n");
    let i = 0;
    let para = [];
    const flush = () => {
      if (para.length) paragraph(para, out);
      para = [];
    };
    while (i < lines.length) {
      const line = lines[i];
      let m;
      if ((m = FENCE.exec(line))) {
        flush();
        const marker = m[1];
        const body = [];
        i += 1;
        const close = new RegExp("^\\s{0,3}" + (marker[0] === "`" ? "`" : "~") + "{" + marker.length + ",}\\s*$");
        while (i < lines.length && !close.test(lines[i])) {
          body.push(lines[i]);
          i += 1;
        }
        i += 1; // the closing fence (or past the end while it streams)
        const pre = element("pre");
        if (m[2]) {
          const lang = element("span", "lang");
          lang.textContent = m[2];
          pre.appendChild(lang);
        }
        const code = element("code");
        code.textContent = body.join("\n");
        pre.appendChild(code);
        out.appendChild(pre);
        continue;
      }
      if ((m = HEADING.exec(line))) {
        flush();
        const h = element("h" + Math.min(5, m[1].length + 2));
        inline(m[2], h);
        out.appendChild(h);
        i += 1;
        continue;
      }
      if (BULLET.test(line) || NUMBERED.test(line)) {
        flush();
        const numbered = !BULLET.test(line);
        const list = element(numbered ? "ol" : "ul");
        const first = numbered ? NUMBERED.exec(line) : null;
        if (first && first[1] !== "1") list.start = Number(first[1]);
        while (i < lines.length) {
          const item = numbered ? NUMBERED.exec(lines[i]) : BULLET.exec(lines[i]);
          if (!item) break;
          const li = element("li");
          inline(numbered ? item[2] : item[1], li);
          list.appendChild(li);
          i += 1;
        }
        out.appendChild(list);
        continue;
      }
      if (QUOTE.test(line)) {
        flush();
        const quote = element("blockquote");
        const quoted = [];
        while (i < lines.length && (m = QUOTE.exec(lines[i]))) {
          quoted.push(m[1]);
          i += 1;
        }
        paragraph(quoted, quote);
        out.appendChild(quote);
        continue;
      }
      if (line.trim() === "") {
        flush();
      } else {
        para.push(line);
      }
      i += 1;
    }
    flush();
    container.replaceChildren(out);
  }

  P.markdown = { render, inline };
})(window.Peregrine);
