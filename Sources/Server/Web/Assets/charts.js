// Line charts as inline SVG, drawn from plain arrays: no library. One chart is a <figure> with a
// caption, an <svg> (time on x over the chosen window, 0..max on y) and a legend with each series'
// latest value. The <svg> carries data-points (points drawn) so tests can see data arrive.
"use strict";
window.Peregrine = window.Peregrine || {};

(function (P) {
  const NS = "http://www.w3.org/2000/svg";
  const W = 420;
  const H = 170;
  const M = { left: 48, right: 10, top: 10, bottom: 22 };

  function svg(tag, attributes, text) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attributes || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // A round upper bound for the y axis (1, 2, 2.5, 5 × 10^n).
  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }

  function compact(v) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    const a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (a >= 1e4) return (v / 1e3).toFixed(0) + "k";
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    if (a === 0) return "0";
    return v.toPrecision(2);
  }

  // Makes (once) or redraws the chart in `figure`.
  // spec: { title, unit, series: [{ name, points: [[unixSeconds, value|null], …] }], window, now, max }
  function line(figure, spec) {
    if (!figure.firstChild) {
      figure.className = "chart";
      const caption = document.createElement("figcaption");
      figure.appendChild(caption);
      const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
      figure.appendChild(root);
      const legend = document.createElement("div");
      legend.className = "legend";
      figure.appendChild(legend);
    }
    const [caption, root, legend] = figure.children;
    caption.textContent = spec.title + (spec.unit ? ` (${spec.unit})` : "");
    root.setAttribute("aria-label", spec.title);

    const x0 = spec.now - spec.window;
    const plotW = W - M.left - M.right;
    const plotH = H - M.top - M.bottom;
    let top = spec.max || 0;
    let drawn = 0;
    for (const s of spec.series) {
      for (const [t, v] of s.points) if (t >= x0 && v !== null && isFinite(v)) top = Math.max(top, v);
    }
    top = niceMax(top);
    const x = (t) => M.left + ((t - x0) / spec.window) * plotW;
    const y = (v) => M.top + plotH - (Math.min(v, top) / top) * plotH;

    const parts = [];
    for (let i = 0; i <= 4; i += 1) {
      const v = (top * i) / 4;
      parts.push(svg("line", { class: i === 0 ? "axis" : "grid", x1: M.left, x2: W - M.right, y1: y(v), y2: y(v) }));
      if (i % 2 === 0) parts.push(svg("text", { class: "tick", x: M.left - 6, y: y(v) + 4, "text-anchor": "end" }, compact(v)));
    }
    const minutes = spec.window / 60;
    for (const f of [0, 0.5, 1]) {
      const label = f === 1 ? "now" : `-${+(minutes * (1 - f)).toFixed(1)} min`;
      parts.push(svg("text", { class: "tick", x: M.left + f * plotW, y: H - 6, "text-anchor": f === 0 ? "start" : f === 1 ? "end" : "middle" }, label));
    }
    spec.series.forEach((s, index) => {
      // A null value (no sample, nothing to divide by) breaks the line instead of drawing zero.
      let run = [];
      const flush = () => {
        if (run.length === 1) parts.push(svg("circle", { class: "line s" + index, cx: run[0][0], cy: run[0][1], r: 1.5 }));
        if (run.length > 1) parts.push(svg("polyline", { class: "line s" + index, points: run.map((p) => p.join(",")).join(" ") }));
        run = [];
      };
      for (const [t, v] of s.points) {
        if (t < x0) continue;
        if (v === null || !isFinite(v)) {
          flush();
          continue;
        }
        run.push([x(t).toFixed(1), y(v).toFixed(1)]);
        drawn += 1;
      }
      flush();
    });
    if (drawn === 0) {
      parts.push(svg("text", { class: "empty", x: M.left + plotW / 2, y: M.top + plotH / 2, "text-anchor": "middle" }, "waiting for data"));
    }
    root.replaceChildren(...parts);
    root.dataset.points = String(drawn);

    legend.replaceChildren(
      ...spec.series.map((s, index) => {
        const item = document.createElement("span");
        const swatch = document.createElement("span");
        swatch.className = "swatch s" + index;
        const last = [...s.points].reverse().find((p) => p[1] !== null && isFinite(p[1]));
        const value = document.createElement("b");
        value.textContent = last ? compact(last[1]) : "–";
        item.append(swatch, document.createTextNode(s.name + " "), value);
        return item;
      }));
  }

  P.charts = { line, compact };
})(window.Peregrine);
