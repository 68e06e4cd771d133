// Charts `[data-chart]` drawn with uPlot (canvas: fast, small) from the series in `data-series`.
// The operations-per-day chart: bars of succeeded and not-succeeded operations per day.
const OK = "#1a7f37";
const BAD = "#b42318";

function draw(el) {
  const series = JSON.parse(el.dataset.series);
  const xs = series.days.map((d) => Date.parse(`${d}T12:00:00Z`) / 1000);
  const bars = window.uPlot.paths.bars({ size: [0.8, 24], gap: 1 });
  const opts = {
    width: Math.max(el.clientWidth, 280),
    height: 180,
    legend: { show: false },
    cursor: { show: true, points: { show: false } },
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(4, max)] } },
    axes: [
      { stroke: "#57606a", grid: { show: false }, space: 60 },
      { stroke: "#57606a", grid: { stroke: "#eaeef2" }, size: 40, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
    ],
    series: [
      {},
      { label: "all finished", stroke: BAD, fill: BAD, paths: bars, points: { show: false } },
      { label: "succeeded", stroke: OK, fill: OK, paths: bars, points: { show: false } },
    ],
  };
  // stacked bars: the total (red) drawn first, the succeeded part (green) over its lower part
  const total = series.succeeded.map((ok, i) => ok + series.other[i]);
  const chart = new window.uPlot(opts, [xs, total, series.succeeded], el);
  new ResizeObserver(() => chart.setSize({ width: Math.max(el.clientWidth, 280), height: 180 })).observe(el);
}

function start() {
  if (!window.uPlot) return;
  for (const el of document.querySelectorAll("[data-chart][data-series]")) draw(el);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
