// Draws the team dashboard's charts with the vendored Chart.js from the data the page embeds
// (json_script "chart-data"). Every chart's numbers are also in the table under it, so the
// page still says everything when this script or the canvas is not available.
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof window.Chart === "undefined") { return; }
  var charts = JSON.parse(source.textContent);
  var palette = ["#2c6fbb", "#c0392b", "#27ae60", "#8e44ad", "#e67e22", "#16a085", "#7f8c8d", "#d35400"];
  Object.keys(charts).forEach(function (id) {
    var spec = charts[id];
    var canvas = document.getElementById("canvas-" + id);
    if (!canvas) { return; }
    var datasets = spec.datasets.map(function (set, n) {
      var colour = palette[n % palette.length];
      return { label: set.label, data: set.data, backgroundColor: colour, borderColor: colour };
    });
    var scales = {
      x: { stacked: !!spec.stacked },
      y: { stacked: !!spec.stacked, beginAtZero: true }
    };
    if (spec.percent) {
      scales.y.suggestedMax = 100;
      scales.y.ticks = { callback: function (value) { return value + "%"; } };
    }
    if (spec.horizontal) {
      scales = { x: { beginAtZero: true }, y: {} };
    }
    canvas.chart = new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: datasets.length > 1 || !!spec.stacked } },
        scales: scales
      }
    });
    canvas.dataset.drawn = "true";
  });
})();
