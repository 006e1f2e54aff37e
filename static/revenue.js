// Draws the revenue page's charts with the vendored ECharts. Each chart's data
// is JSON in its element's data-chart attribute (no inline script: the CSP
// allows scripts from this origin only). Tooltips render inside the canvas
// (richText), as HTML tooltips would need inline styles the CSP refuses.
(function () {
  "use strict";
  function draw(el) {
    var data;
    try { data = JSON.parse(el.getAttribute("data-chart")); } catch (e) { return; }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", renderMode: "richText", valueFormatter: function (v) { return Number(v).toFixed(2) + " " + data.unit; } },
      legend: { type: "scroll", top: 0 },
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.days },
      yAxis: { type: "value", name: data.unit },
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "total", data: s.data, emphasis: { focus: "series" } };
      })
    });
    el.setAttribute("data-drawn", "");
    // Redraw at the element's new size (a phone turned, a window resized).
    if (window.ResizeObserver) {
      new ResizeObserver(function () { chart.resize(); }).observe(el);
    } else {
      window.addEventListener("resize", function () { chart.resize(); });
    }
  }
  function init() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
