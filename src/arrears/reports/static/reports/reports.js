// Draws a report page's charts with the vendored Chart.js from the data the page embeds
// (json_script "chart-data"; values are text, exact decimals from the server). Every chart's
// figures are also in the table under it, so the page says everything without this script.
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
      return {
        label: set.label,
        data: set.data.map(function (v) { return v === null ? null : Number(v); }),
        backgroundColor: colour,
        borderColor: colour,
        fill: false
      };
    });
    var scales = {
      x: { stacked: !!spec.stacked },
      y: { stacked: !!spec.stacked, beginAtZero: true }
    };
    if (spec.percent) {
      scales.y.ticks = { callback: function (value) { return value + "%"; } };
    }
    canvas.chart = new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: true } },
        scales: scales
      }
    });
    canvas.dataset.drawn = "true";
  });
})();
