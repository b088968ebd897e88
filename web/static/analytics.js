// Analytics pages: one chart per <canvas data-chart> (Chart.js from /static/vendor), and the
// period picker. Kept out of the HTML: the Content-Security-Policy runs no inline script.
"use strict";

document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
  const spec = JSON.parse(canvas.dataset.chart);
  new Chart(canvas, {
    type: spec.type,
    data: { labels: spec.labels, datasets: spec.datasets },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { display: spec.type === "pie" || spec.datasets.length > 1 } },
      // Counts are whole numbers: no 0.5 ticks on the axis.
      scales: spec.type === "pie" ? {} : { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
});

// "Custom" shows the two dates; any other period is shown at once.
const period = document.getElementById("period");
if (period) {
  period.addEventListener("change", () => {
    document.getElementById("custom-dates").hidden = period.value !== "custom";
    if (period.value !== "custom") period.form.submit();
  });
}
