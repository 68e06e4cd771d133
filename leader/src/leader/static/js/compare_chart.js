// /experiments/compare: one chart descriptor of 2-6 experiments overlaid. Each experiment's readings come
// from its own GET /api/experiments/<exp>/time_series/<chart> (one request each: its whole history in
// min/avg/max buckets). The x axis is hours since each experiment's start, so they line up at 0, or clock
// time. One series per experiment and unit ("<exp> · <label>"): a colour per experiment, a dash per unit.
import { announce, call } from "./api.js";
import { download } from "./chart_export.js";
import { COLORS, columns, options, tidyLegend } from "./timeseries_plot.js";

const el = document.querySelector("[data-chart][data-compare]");
const box = el?.closest("[data-chart-box]");
const zone = document.querySelector('meta[name="lab-timezone"]')?.content || "UTC";
const DASHES = [undefined, [7, 3], [2, 3], [10, 3, 2, 3], [1, 2], [14, 4]];
const LEGEND_DASHES = ["solid", "dashed", "dotted", "dashed", "dotted", "dashed"]; // the nearest CSS border
const experiments = el ? JSON.parse(el.dataset.compare) : []; // [{name, start, labels, url}]
const series = new Map(); // series key -> {exp, unit, start, color, dash}
const state = { el, box, rows: new Map(), units: [], hidden: new Set(), plot: null, zoomed: false };
let elapsed = true;

const labelOf = (key) => {
  const s = series.get(key);
  return `${s.exp.name} · ${s.exp.labels[s.unit] || s.unit}`;
};
const toX = (key, t) => (elapsed ? (t - series.get(key).start) / 3600 : t);

// each series' rows with x in the axis' unit (the stored rows keep epoch seconds, for the CSV)
function plotted() {
  const out = new Map();
  for (const key of state.units) out.set(key, state.rows.get(key).map(([t, ...rest]) => [toX(key, t), ...rest]));
  return out;
}

// what the chart shows, for tests and anyone inspecting the page: points, and each series' x span
function describe() {
  const shown = state.units.filter((k) => !state.hidden.has(k));
  const rows = shown.map((k) => state.rows.get(k));
  el.dataset.points = String(rows.reduce((n, r) => n + r.length, 0));
  el.dataset.series = JSON.stringify(
    shown.map((k, i) => ({ name: labelOf(k), experiment: series.get(k).exp.name, points: rows[i].length, x: [toX(k, rows[i][0][0]), toX(k, rows[i].at(-1)[0])] })),
  );
}

function size() {
  const width = Math.max(el.clientWidth, 240);
  return { width, height: width < 500 ? 240 : 360 };
}

function build() {
  state.plot?.destroy();
  state.plot = null;
  state.zoomed = false;
  box.querySelector("[data-reset-zoom]").hidden = true;
  el.replaceChildren();
  if (!state.units.length) {
    const empty = document.createElement("p");
    empty.className = "muted chart-empty";
    empty.textContent = "None of these experiments has readings for this chart.";
    el.append(empty);
    return describe();
  }
  const opts = options({
    ...size(),
    units: state.units,
    labelOf,
    hidden: state.hidden,
    decimals: Number(el.dataset.decimals || 2),
    yMin: el.dataset.yMin ? Number(el.dataset.yMin) : null,
    yMax: el.dataset.yMax ? Number(el.dataset.yMax) : null,
    elapsed,
    zone,
    markers: () => [],
    styleOf: (key) => series.get(key),
    onToggle: (key, on) => {
      if (on) state.hidden.delete(key);
      else state.hidden.add(key);
      describe();
    },
    onZoom: (u) => {
      const xs = u.data[0];
      const span = xs[xs.length - 1] - xs[0];
      state.zoomed = u.scales.x.min > xs[0] + span * 1e-6 || u.scales.x.max < xs[xs.length - 1] - span * 1e-6;
      box.querySelector("[data-reset-zoom]").hidden = !state.zoomed;
    },
    onCursor: () => {},
  });
  if (elapsed) opts.scales.x.range = (u, min, max) => [Math.min(0, min), max]; // every start shown, at 0
  state.plot = new window.uPlot(opts, columns(plotted(), state.units), el);
  tidyLegend(state.plot);
  // each legend entry's key as a short line in its series' dash (charts.css draws the line)
  state.plot.root.querySelectorAll(".u-legend .u-series:not(.band-series) .u-marker").forEach((marker, i) => {
    if (i > 0) marker.style.borderTopStyle = series.get(state.units[i - 1]).legendDash;
  });
  describe();
}

async function load() {
  const points = String(Math.min(1000, Math.max(200, Math.round(el.clientWidth))));
  const until = String(Date.now() / 1000 + 60); // a unit's clock a little ahead still shows
  const missing = [];
  const answers = await Promise.all(
    experiments.map(async (exp) => {
      const since = String(Date.parse(exp.start) / 1000 - 60);
      try {
        return await call("GET", `${exp.url}?${new URLSearchParams({ since, until, points })}`);
      } catch (error) {
        announce(`${exp.name}: ${error.message}`);
        return { units: {} };
      }
    }),
  );
  experiments.forEach((exp, i) => {
    const units = Object.entries(answers[i].units || {}).filter(([, rows]) => rows.length);
    if (!units.length) missing.push(exp.name);
    const name = (unit) => exp.labels[unit] || unit;
    units.sort(([a], [b]) => name(a).localeCompare(name(b), undefined, { numeric: true }));
    units.forEach(([unit, rows], j) => {
      const key = `${exp.name}/${unit}`; // no '/' in experiment names
      series.set(key, { exp, unit, start: Date.parse(exp.start) / 1000, color: COLORS[i % COLORS.length], dash: DASHES[j % DASHES.length], legendDash: LEGEND_DASHES[j % DASHES.length] });
      state.rows.set(key, rows);
      state.units.push(key);
    });
    const swatch = document.querySelector(`[data-compare-swatch="${i}"]`);
    if (swatch) swatch.style.background = COLORS[i % COLORS.length];
  });
  box.querySelector("[data-compare-note]").textContent = missing.length ? `No readings for this chart: ${missing.join(", ")}.` : "";
  build();
}

function controls() {
  const root = document.querySelector("[data-compare-axis]");
  root.addEventListener("click", (event) => {
    const axis = event.target.closest("[data-axis]");
    if (!axis) return;
    for (const b of root.querySelectorAll("[data-axis]")) b.setAttribute("aria-pressed", String(b === axis));
    elapsed = axis.dataset.axis === "elapsed";
    if (window.uPlot) build();
  });
  box.addEventListener("click", (event) => {
    const b = event.target.closest("[data-download]");
    if (b) {
      const x = state.plot?.scales.x;
      download(b.dataset.download, state, {
        experiment: experiments.map((e) => e.name).join("_vs_"),
        labelOf,
        experimentOf: (key) => series.get(key).exp.name,
        unitOf: (key) => series.get(key).unit,
        startedOf: (key) => series.get(key).start,
        colorOf: (key) => series.get(key).color,
        inView: (key, t) => !x || (toX(key, t) >= x.min && toX(key, t) <= x.max),
      });
    }
    if (event.target.closest("[data-reset-zoom]") && state.plot) {
      const xs = state.plot.data[0];
      state.plot.setScale("x", { min: elapsed ? Math.min(0, xs[0]) : xs[0], max: xs[xs.length - 1] });
    }
  });
  new ResizeObserver(() => state.plot?.setSize(size())).observe(el);
}

function start() {
  if (!el || !window.uPlot) return;
  controls();
  load();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
