// Draws the dashboard's charts with ECharts (served locally). The figures come from the page itself, in
// <script type="application/json" id="dashboard-charts">, so no inline script is needed (CSP: 'self' only).
(function () {
  "use strict";
  var FONT = 'system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif';
  var RED = "#b3261e", BLUE = "#2b6cb0", GREEN = "#1b7f3b", AMBER = "#b7791f";

  function palette(dark) {
    return dark
      ? { text: "#e6edf3", muted: "#9fb0c3", line: "#2a3b52", bg: "transparent" }
      : { text: "#1f2933", muted: "#616e7c", line: "#d9dee3", bg: "transparent" };
  }

  function base(p, narrow) {
    return {
      backgroundColor: p.bg,
      animation: false,
      textStyle: { fontFamily: FONT, color: p.text },
      // Tooltips drawn on the canvas: no inline-styled HTML (the CSP forbids inline styles).
      tooltip: { trigger: "axis", renderMode: "richText", confine: true },
      legend: { top: 0, textStyle: { color: p.text, fontFamily: FONT, fontSize: narrow ? 11 : 12 } },
      grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
    };
  }

  function axis(labels, p, narrow) {
    return {
      type: "category",
      data: labels,
      axisLabel: { color: p.muted, fontFamily: FONT, fontSize: narrow ? 10 : 11, hideOverlap: true },
      axisLine: { lineStyle: { color: p.line } },
    };
  }

  function valueAxis(p, extra) {
    var a = { type: "value", axisLabel: { color: p.muted, fontFamily: FONT }, splitLine: { lineStyle: { color: p.line } } };
    for (var k in extra) a[k] = extra[k];
    return a;
  }

  var builders = {
    resumed: function (d, p, narrow) {
      var o = base(p, narrow);
      o.xAxis = axis(d.labels, p, narrow);
      o.yAxis = [valueAxis(p, { name: "", minInterval: 1 }), valueAxis(p, { name: "", minInterval: 1, splitLine: { show: false } })];
      o.series = [
        { name: "当日复工", type: "bar", data: d.daily, itemStyle: { color: RED }, barMaxWidth: 18 },
        { name: "累计复工", type: "line", yAxisIndex: 1, data: d.cumulative, smooth: true, symbol: "none", lineStyle: { color: BLUE, width: 2 }, itemStyle: { color: BLUE } },
      ];
      return o;
    },
    problems: function (d, p, narrow) {
      var o = base(p, narrow);
      o.xAxis = axis(d.labels, p, narrow);
      o.yAxis = valueAxis(p, { minInterval: 1 });
      o.series = [
        { name: "上报", type: "line", data: d.reported, symbol: "circle", symbolSize: 4, lineStyle: { color: AMBER }, itemStyle: { color: AMBER } },
        { name: "办结", type: "line", data: d.resolved, symbol: "circle", symbolSize: 4, lineStyle: { color: GREEN }, itemStyle: { color: GREEN } },
      ];
      return o;
    },
    coverage: function (d, p, narrow) {
      var o = base(p, narrow);
      o.tooltip.valueFormatter = function (v) { return v + "%"; };
      // Region names read horizontally: categories on the vertical axis, one bar pair per region.
      o.yAxis = axis(d.labels.slice().reverse(), p, narrow);
      o.yAxis.axisLabel.width = narrow ? 64 : 110;
      o.yAxis.axisLabel.overflow = "truncate";
      o.xAxis = valueAxis(p, { max: 100, axisLabel: { color: p.muted, formatter: "{value}%" } });
      o.grid.right = 24;
      o.series = [
        { name: "复工率", type: "bar", data: d.resumed.slice().reverse(), itemStyle: { color: RED }, barMaxWidth: 12 },
        { name: "专项行动覆盖率", type: "bar", data: d.covered.slice().reverse(), itemStyle: { color: BLUE }, barMaxWidth: 12 },
      ];
      return o;
    },
  };

  function draw() {
    var source = document.getElementById("dashboard-charts");
    if (!source || typeof window.echarts === "undefined") return;
    var data = JSON.parse(source.textContent);
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var name = el.getAttribute("data-chart");
      var d = data[name];
      if (!d || !builders[name]) return;
      if (name === "coverage" && el.getAttribute("data-theme") !== "dark") {
        // tall enough for one row per region
        el.style.height = Math.max(220, 36 + d.labels.length * 26) + "px";
      }
      var dark = el.getAttribute("data-theme") === "dark";
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(builders[name](d, palette(dark), el.clientWidth < 480));
      el.setAttribute("data-rendered", "1");
      charts.push(chart);
    });
    var pending = null;
    window.addEventListener("resize", function () {
      if (pending) window.clearTimeout(pending);
      pending = window.setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 150);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
