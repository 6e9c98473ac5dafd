// motcua: the little the pages do in the browser. Loaded as a file (the CSP allows no inline
// script); everything works without it but the chart and the print button.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  // The slip's print button.
  function bindPrint(root) {
    root.querySelectorAll(".js-print").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
  }

  // Daily inflow against decisions, from the JSON the page carries.
  function drawFlow() {
    var data = document.getElementById("flow-data");
    var box = document.getElementById("flow-chart");
    if (!data || !box || typeof uPlot === "undefined") return;
    var d = JSON.parse(data.textContent);
    var xs = d.days.map(function (s) { return Date.parse(s + "T00:00:00+07:00") / 1000; });
    var width = Math.max(280, box.clientWidth || 600);
    var opts = {
      width: width,
      height: 240,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Asia/Ho_Chi_Minh"); },
      series: [
        { label: d.labels[2], value: function (u, v) { return v == null ? "" : new Date(v * 1e3).toLocaleDateString("vi-VN"); } },
        { label: d.labels[0], stroke: "#0b4f9c", width: 2 },
        { label: d.labels[1], stroke: "#1d6b35", width: 2 }
      ],
      axes: [{ values: function (u, vals) { return vals.map(function (v) { return new Date(v * 1e3).toLocaleDateString("vi-VN", { day: "2-digit", month: "2-digit" }); }); } }, {}]
    };
    box.textContent = "";
    new uPlot(opts, [xs, d.received, d.decided], box);
    box.setAttribute("data-drawn", "1");
  }

  ready(function () {
    bindPrint(document);
    drawFlow();
  });
  document.addEventListener("htmx:afterSwap", function (e) { bindPrint(e.target); });
})();
