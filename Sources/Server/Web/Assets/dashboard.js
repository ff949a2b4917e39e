// The dashboard: samples /v1/stats every second while open (the same numbers /metrics exports),
// turns counters into rates between samples, and redraws the charts; with the admin key it also
// lists today's usage and cost per key from /v1/usage.
"use strict";
window.Peregrine = window.Peregrine || {};

(function (P) {
  const $ = (id) => document.getElementById(id);
  const KEEP_SECONDS = 900;
  const ADMIN_KEY = "peregrine.adminKey";
  const samples = []; // [{ t: unix seconds, s: /v1/stats body }]
  const figures = {};

  // Rate of a counter between consecutive samples; null across a restart (the counter fell) or
  // when nothing was there to divide by.
  function rate(a, b, name, per = 1) {
    const dt = b.t - a.t;
    const dv = b.s[name] - a.s[name];
    if (!(dt > 0) || dv < 0) return null;
    return (dv / dt) * per;
  }

  function series(pick) {
    const points = [];
    for (let i = 0; i < samples.length; i += 1) {
      const v = pick(samples[i], i > 0 ? samples[i - 1] : null);
      points.push([samples[i].t, v === undefined ? null : v]);
    }
    return points;
  }

  const ms = (summary, q) => (summary && summary.count > 0 && summary[q] !== null ? summary[q] * 1000 : null);

  const CHARTS = [
    {
      id: "requests", title: "Requests", unit: "count", max: 1,
      series: [
        ["running", (c) => c.s.requests_running],
        ["waiting", (c) => c.s.requests_waiting],
      ],
    },
    {
      id: "tokens", title: "Tokens per second", unit: "tok/s",
      series: [
        ["in (prompt)", (c, p) => (p ? rate(p, c, "prompt_tokens_total") : null)],
        ["out (generated)", (c, p) => (p ? rate(p, c, "generation_tokens_total") : null)],
      ],
    },
    {
      id: "ttft", title: "Time to first token, last minute", unit: "ms",
      series: [["p50", (c) => ms(c.s.ttft_s, "p50")], ["p90", (c) => ms(c.s.ttft_s, "p90")], ["p99", (c) => ms(c.s.ttft_s, "p99")]],
    },
    {
      id: "itl", title: "Inter-token latency, last minute", unit: "ms",
      series: [["p50", (c) => ms(c.s.itl_s, "p50")], ["p90", (c) => ms(c.s.itl_s, "p90")], ["p99", (c) => ms(c.s.itl_s, "p99")]],
    },
    {
      id: "kv", title: "KV-cache use", unit: "%", max: 100,
      series: [["blocks in use", (c) => c.s.kv_cache_usage * 100]],
    },
    {
      id: "prefix", title: "Prefix-cache hit rate", unit: "% of prompt tokens", max: 100,
      series: [[
        "hits",
        (c, p) => {
          if (!p) return null;
          const q = c.s.prefix_cache_queries_total - p.s.prefix_cache_queries_total;
          const h = c.s.prefix_cache_hits_total - p.s.prefix_cache_hits_total;
          return q > 0 && h >= 0 ? (h / q) * 100 : null;
        },
      ]],
    },
    {
      id: "cost", title: "Billed", unit: "$ per minute", economics: true,
      series: [["price table", (c, p) => (p && c.s.economics && p.s.economics ? rateOf(p, c, (x) => x.s.economics.billed_dollars_total, 60) : null)]],
    },
  ];

  function rateOf(a, b, get, per) {
    const dt = b.t - a.t;
    const dv = get(b) - get(a);
    return dt > 0 && dv >= 0 ? (dv / dt) * per : null;
  }

  function tiles(s, previous) {
    const rows = [
      ["Running", s.requests_running],
      ["Waiting", s.requests_waiting],
      ["KV cache", (s.kv_cache_usage * 100).toFixed(1) + " %"],
      ["Prefix hits (since start)", s.prefix_cache_queries_total > 0 ? ((100 * s.prefix_cache_hits_total) / s.prefix_cache_queries_total).toFixed(1) + " %" : "–"],
      ["Out tok/s", previous ? P.charts.compact(rate(previous, { t: s.time, s }, "generation_tokens_total")) : "–"],
      ["TTFT p50", s.ttft_s.count ? P.format.seconds(s.ttft_s.p50) : "–"],
      ["ITL p50", s.itl_s.count ? P.format.seconds(s.itl_s.p50) : "–"],
      ["Finished", s.requests_finished_total],
    ];
    if (s.economics) rows.push(["Billed total", P.format.dollars(s.economics.billed_dollars_total)]);
    $("tiles").replaceChildren(
      ...rows.map(([label, value]) => {
        const tile = document.createElement("div");
        tile.className = "tile";
        const l = document.createElement("div");
        l.className = "label";
        l.textContent = label;
        const v = document.createElement("div");
        v.className = "value";
        v.textContent = String(value);
        tile.append(l, v);
        return tile;
      }));
  }

  function draw() {
    if (samples.length === 0) return;
    const last = samples[samples.length - 1];
    // A page opened a moment ago has seconds of history, not minutes: its charts span what it has
    // (at least a minute), growing to the chosen window.
    const window = Math.min(Number($("window").value), Math.max(60, Math.ceil(last.t - samples[0].t)));
    for (const chart of CHARTS) {
      if (chart.economics && !last.s.economics) continue;
      if (!figures[chart.id]) {
        figures[chart.id] = document.createElement("figure");
        figures[chart.id].id = "chart-" + chart.id;
        $("charts").appendChild(figures[chart.id]);
      }
      P.charts.line(figures[chart.id], {
        title: chart.title, unit: chart.unit, max: chart.max, window, now: last.t,
        series: chart.series.map(([name, pick]) => ({ name, points: series(pick) })),
      });
    }
  }

  async function poll() {
    try {
      const s = await P.api.json("/v1/stats");
      const previous = samples.length ? samples[samples.length - 1] : null;
      samples.push({ t: s.time, s });
      while (samples.length && samples[0].t < s.time - KEEP_SECONDS) samples.shift();
      $("model").textContent = s.model;
      const st = $("server-state");
      st.textContent = s.status === "ok" ? "ready" : s.status;
      st.className = "state " + (s.status === "ok" ? "ok" : "bad");
      $("notice").hidden = true;
      tiles(s, previous);
      draw();
    } catch (error) {
      $("notice").textContent = "Cannot read /v1/stats: " + error.message;
      $("notice").hidden = false;
    }
  }

  // MARK: usage per key (admin)

  async function loadUsage() {
    const key = $("admin-key").value.trim();
    try {
      localStorage.setItem(ADMIN_KEY, JSON.stringify(key));
    } catch (_) {
      // storage off: the key lasts this visit
    }
    if (!key) return;
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    try {
      const report = await P.api.json(`/v1/usage?group_by=key&start=${Math.floor(midnight.getTime() / 1000)}`, { key });
      const rows = report.data.map((r) => {
        const tr = document.createElement("tr");
        for (const v of [r.group, r.requests, r.input_tokens, r.cached_tokens, r.output_tokens, P.format.dollars(r.cost)]) {
          const td = document.createElement("td");
          td.textContent = String(v);
          tr.appendChild(td);
        }
        return tr;
      });
      $("usage-rows").replaceChildren(...rows);
      $("usage-table").hidden = false;
      $("usage-note").textContent = rows.length ? `Since ${midnight.toLocaleString()}.` : "No requests today yet.";
    } catch (error) {
      $("usage-table").hidden = true;
      $("usage-note").textContent =
        error.status === 404 ? "This server keeps no usage records (--usage-db none)." : error.message;
    }
  }

  function start() {
    try {
      $("admin-key").value = JSON.parse(localStorage.getItem(ADMIN_KEY) || '""');
    } catch (_) {
      $("admin-key").value = "";
    }
    $("window").addEventListener("change", draw);
    $("load-usage").addEventListener("click", loadUsage);
    $("admin-key").addEventListener("keydown", (e) => {
      if (e.key === "Enter") loadUsage();
    });
    poll();
    setInterval(poll, 1000);
    loadUsage();
    setInterval(loadUsage, 10000);
  }

  P.dashboard = { samples };
  document.addEventListener("DOMContentLoaded", start);
})(window.Peregrine);
