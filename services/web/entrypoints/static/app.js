// Draws the dashboard's charts from the JSON the page carries (#chart-data), with the
// values written as people in Vietnam write them (21.750.000 đ). No other host is asked.
(function () {
  "use strict";
  var data = document.getElementById("chart-data");
  if (!data || typeof Chart === "undefined") { return; }
  var chart = JSON.parse(data.textContent);
  var money = new Intl.NumberFormat("vi-VN");
  function vnd(value) { return money.format(value) + " đ"; }
  function draw(id, kind, series, many) {
    var canvas = document.getElementById(id);
    if (!canvas || !series.labels.length) { return; }
    new Chart(canvas, {
      type: kind,
      data: {
        labels: series.labels,
        datasets: [{
          label: "Giá trị (đồng)",
          data: series.values,
          backgroundColor: many ? chart.palette : chart.palette[0]
        }]
      },
      options: {
        animation: false,
        responsive: true,
        aspectRatio: 1.6,
        plugins: {
          legend: { display: kind !== "bar" },
          tooltip: { callbacks: { label: function (item) { return vnd(item.raw); } } }
        },
        scales: kind === "bar" ? { y: { ticks: { callback: function (v) { return money.format(v); } } } } : {}
      }
    });
  }
  draw("by-quarter", "bar", chart.quarters, false);
  draw("by-category", "doughnut", chart.categories, true);
})();
