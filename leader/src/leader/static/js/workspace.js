// The experiment page: start dialogs from the descriptors, and everything live from the experiment's event
// stream (job states, settings, readings into the charts, logs, operations). Text from units is set with
// textContent only; descriptor strings are data.
import { announce, call } from "./api.js";

const root = document.querySelector("[data-workspace]");
const labels = root ? JSON.parse(root.dataset.labels || "{}") : {};
const MAX_POINTS = 5000; // per unit and chart: the live buffer never grows without bound
const COLORS = ["#0969da", "#b42318", "#1a7f37", "#8250df", "#bc4c00", "#1b7c83", "#cf222e", "#57606a", "#6639ba", "#953800"];

const esc = (s) => (window.CSS && CSS.escape ? CSS.escape(s) : s);
const labelOf = (unit) => labels[unit] || unit;

// -- dialogs (the start and settings forms are job_form.js) -------------------------------------------
document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-open]");
  if (opener) document.getElementById(opener.dataset.open)?.showModal();
  const closer = event.target.closest("[data-close]");
  if (closer) closer.closest("dialog")?.close();
});

function showOperation(op) {
  const section = document.querySelector(`[data-job="${esc(op.params?.job || "")}"]`);
  const box = section?.querySelector("[data-op-progress]");
  if (!box) return;
  const done = (op.steps || []).filter((s) => s.status !== "pending" && s.status !== "running").length;
  const failed = (op.steps || []).filter((s) => s.status === "failed");
  let text = `${op.kind}: ${op.status} (${done}/${(op.steps || []).length} units)`;
  if (failed.length) text += ` — failed on ${failed.map((s) => `${labelOf(s.unit)}: ${s.detail || "error"}`).join("; ")}`;
  box.textContent = text;
}

// -- live state ---------------------------------------------------------------------------------------
const WORDS = new Set(["init", "ready", "sleeping", "lost"]);
const word = (state) => (WORDS.has(state) ? state : "off");

function setState(el, state) {
  if (!el) return;
  el.textContent = state;
  el.className = `state state-${state}`;
}

function onJobState({ unit, job, state }) {
  const w = word(state);
  setState(document.querySelector(`[data-job="${esc(job)}"] [data-unit="${esc(unit)}"] [data-state]`), w);
  setState(document.querySelector(`[data-unit-card="${esc(unit)}"] [data-card-state="${esc(job)}"]`), w);
}

function onSetting({ unit, job, name, value }) {
  const el = document.querySelector(`[data-unit-card="${esc(unit)}"] [data-setting="${esc(job)}/${esc(name)}"]`);
  if (!el) return;
  let shown = value;
  if (value && typeof value === "object") shown = value[name] ?? Object.values(value)[0];
  if (typeof shown === "number") shown = Number(shown.toPrecision(4));
  el.hidden = value === null;
  el.querySelector("[data-value]").textContent = shown === null || shown === undefined ? "" : String(shown);
  el.classList.remove("changed");
  void el.offsetWidth; // restart the highlight
  el.classList.add("changed");
}

function onLog(entry) {
  const body = document.querySelector("[data-logs]");
  if (!body) return;
  const row = document.createElement("tr");
  const when = new Date(entry.timestamp);
  for (const text of [when.toLocaleString(), labelOf(entry.unit), entry.job || "", (entry.level || "").toLowerCase(), entry.message]) {
    const cell = document.createElement("td");
    cell.textContent = text;
    row.append(cell);
  }
  body.prepend(row);
  while (body.rows.length > 100) body.lastElementChild.remove();
}

// -- charts -------------------------------------------------------------------------------------------
const charts = new Map(); // key -> {el, units: Map(unit -> rows [t, avg, min, max]), plot, hidden:Set}
let windowHours = 24;

function plotData(state) {
  const units = [...state.units.keys()].sort();
  const times = new Set();
  for (const rows of state.units.values()) for (const r of rows) times.add(r[0]);
  const xs = [...times].sort((a, b) => a - b);
  const index = new Map(xs.map((t, i) => [t, i]));
  const data = [xs];
  for (const unit of units) {
    const avg = new Array(xs.length).fill(null);
    const lo = new Array(xs.length).fill(null);
    const hi = new Array(xs.length).fill(null);
    for (const [t, a, mn, mx] of state.units.get(unit)) {
      const i = index.get(t);
      avg[i] = a;
      lo[i] = mn;
      hi[i] = mx;
    }
    data.push(avg, hi, lo);
  }
  return { units, data };
}

function countPoints(state) {
  let n = 0;
  for (const [unit, rows] of state.units) if (!state.hidden.has(unit)) n += rows.length;
  state.el.dataset.points = String(n);
}

function redraw(state) {
  const { units, data } = plotData(state);
  const width = Math.max(state.el.clientWidth, 260);
  const same = state.plot && units.length && state.plotUnits.join() === units.join();
  if (same) {
    state.plot.setData(data);
  } else {
    state.plot?.destroy();
    const series = [{}];
    const bands = [];
    units.forEach((unit, i) => {
      const color = COLORS[i % COLORS.length];
      const base = series.length;
      series.push({ label: labelOf(unit), stroke: color, width: 1.5, spanGaps: true, points: { show: false }, show: !state.hidden.has(unit) });
      series.push({ label: `${labelOf(unit)} max`, stroke: "transparent", spanGaps: true, points: { show: false }, show: !state.hidden.has(unit) });
      series.push({ label: `${labelOf(unit)} min`, stroke: "transparent", spanGaps: true, points: { show: false }, show: !state.hidden.has(unit) });
      bands.push({ series: [base + 1, base + 2], fill: `${color}22` });
    });
    const opts = {
      width,
      height: 220,
      series,
      bands,
      legend: { show: true },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true } },
      axes: [{ stroke: "#57606a", grid: { stroke: "#eaeef2" } }, { stroke: "#57606a", grid: { stroke: "#eaeef2" }, size: 56 }],
      hooks: {
        setSeries: [
          (u, i) => {
            if (i == null || (i - 1) % 3 !== 0) return;
            const unit = units[(i - 1) / 3];
            const shown = u.series[i].show;
            if (shown) state.hidden.delete(unit);
            else state.hidden.add(unit);
            u.setSeries(i + 1, { show: shown });
            u.setSeries(i + 2, { show: shown });
            countPoints(state);
          },
        ],
      },
    };
    state.el.replaceChildren();
    state.plot = null;
    state.plotUnits = units;
    if (!units.length) {
      const empty = document.createElement("p");
      empty.className = "muted chart-empty";
      empty.textContent = "No readings in this window.";
      state.el.append(empty);
      countPoints(state);
      return;
    }
    state.plot = new window.uPlot(opts, data, state.el);
    // the min/max band series stay out of the legend: one entry per unit toggles its line and band
    state.plot.root.querySelectorAll(".u-legend .u-series").forEach((row, i) => {
      if (i > 0 && (i - 1) % 3 !== 0) row.classList.add("band-series");
    });
  }
  countPoints(state);
}

function schedule(state) {
  if (state.queued) return;
  state.queued = true;
  requestAnimationFrame(() => {
    state.queued = false;
    if (window.uPlot) redraw(state);
  });
}

async function load(state) {
  const params = new URLSearchParams({ points: "1000" });
  if (windowHours) params.set("since", String(Date.now() / 1000 - windowHours * 3600));
  else params.set("since", "0");
  try {
    const answer = await call("GET", `${state.el.dataset.url}?${params}`);
    const scale = Number(state.el.dataset.scale || 1);
    state.units = new Map();
    for (const [unit, rows] of Object.entries(answer.units || {})) {
      state.units.set(unit, rows.map(([t, a, mn, mx]) => [t, a * scale, mn * scale, mx * scale]));
    }
    schedule(state);
  } catch (error) {
    announce(`Chart ${state.el.dataset.chart}: ${error.message}`);
  }
}

function onReading({ series, unit, t, value }) {
  const state = charts.get(series);
  if (!state || typeof value !== "number") return;
  const v = value * Number(state.el.dataset.scale || 1);
  if (!state.units.has(unit)) state.units.set(unit, []);
  const rows = state.units.get(unit);
  rows.push([t, v, v, v]);
  if (rows.length > MAX_POINTS) rows.splice(0, rows.length - MAX_POINTS);
  schedule(state);
}

function download(kind, state) {
  const name = `${root.dataset.experiment}-${state.el.dataset.chart}`;
  const a = document.createElement("a");
  if (kind === "png") {
    const canvas = state.el.querySelector("canvas");
    if (!canvas) return;
    a.href = canvas.toDataURL("image/png");
    a.download = `${name}.png`;
  } else {
    const lines = ["unit,label,time,avg,min,max"];
    for (const [unit, rows] of state.units) {
      for (const [t, avg, mn, mx] of rows) lines.push([unit, JSON.stringify(labelOf(unit)), new Date(t * 1000).toISOString(), avg, mn, mx].join(","));
    }
    a.href = URL.createObjectURL(new Blob([lines.join("\n")], { type: "text/csv" }));
    a.download = `${name}.csv`;
  }
  a.click();
}

function startCharts() {
  for (const el of document.querySelectorAll("[data-chart][data-url]")) {
    const state = { el, units: new Map(), hidden: new Set(), plot: null, plotUnits: [] };
    charts.set(el.dataset.chart, state);
    load(state);
    new ResizeObserver(() => state.plot?.setSize({ width: Math.max(el.clientWidth, 260), height: 220 })).observe(el);
    el.closest("figure")?.addEventListener("click", (event) => {
      const b = event.target.closest("[data-download]");
      if (b) download(b.dataset.download, state);
    });
  }
  for (const b of document.querySelectorAll("[data-window]")) {
    b.addEventListener("click", () => {
      windowHours = Number(b.dataset.window);
      for (const other of document.querySelectorAll("[data-window]")) other.setAttribute("aria-pressed", String(other === b));
      for (const state of charts.values()) load(state);
    });
  }
}

// -- the stream ---------------------------------------------------------------------------------------
function listen() {
  const source = new EventSource(root.dataset.events); // reconnects with Last-Event-ID by itself
  const handlers = { job_state: onJobState, setting: onSetting, reading: onReading, log: onLog, operation: showOperation };
  for (const [name, fn] of Object.entries(handlers)) {
    source.addEventListener(name, (event) => {
      const data = JSON.parse(event.data);
      fn(data);
      document.dispatchEvent(new CustomEvent(`workspace:${name}`, { detail: data })); // for other modules
    });
  }
  source.addEventListener("reset", () => window.location.reload());
}

function start() {
  if (!root) return;
  startCharts();
  listen();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
