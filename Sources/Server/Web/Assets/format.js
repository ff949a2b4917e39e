// How the pages write durations and dollars, shared by the playground and the dashboard.
"use strict";
window.Peregrine = window.Peregrine || {};

(function (P) {
  // 45 ms below a second, 1.25 s above; null when there is nothing to show.
  function seconds(s) {
    if (s === undefined || s === null || !isFinite(s)) return null;
    return s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(2)} s`;
  }

  // Request costs are fractions of a cent: two significant digits below a cent.
  function dollars(d) {
    if (d === undefined || d === null || !isFinite(d)) return null;
    if (d === 0) return "$0";
    return d < 0.01 ? "$" + d.toPrecision(2) : "$" + d.toFixed(4);
  }

  P.format = { seconds, dollars };
})(window.Peregrine);
