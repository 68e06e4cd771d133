// The experiment page's charts (one per chart descriptor): history from /time_series in min/avg/max
// buckets, then live readings from the page's event stream (workspace.js re-dispatches each event as
// `experiment:<name>`) into a bounded buffer; time windows, elapsed vs clock axis, brush zoom, legend
// toggles, markers (job starts/stops, pump runs, profile actions), PNG and CSV of what is shown.
import { announce, call } from "./api.js";
import { download } from "./chart_export.js";
import { columns, options, tidyLegend } from "./timeseries_plot.js";
import { epochToZoned, zonedToEpoch } from "./zoned_time.js";

const root = document.querySelector("[data-chart-controls]");
const workspace = document.querySelector("[data-workspace]");
const labels = workspace ? JSON.parse(workspace.dataset.labels || "{}") : {};
const zone = document.querySelector('meta[name="lab-timezone"]')?.content || "UTC";
const MAX_LIVE = 5000; // live points kept per unit and chart: the buffer never grows without bound
const labelOf = (unit) => labels[unit] || unit;

const charts = new Map(); // chart key -> state
const view = { hours: 24, since: null, until: null, elapsed: false, markers: true };
let markers = []; // {t, kind, unit, text}, ascending t
const started = root ? Date.parse(root.dataset.start) / 1000 : 0;
const seenOps = new Set();

// -- the window -------------------------------------------------------------------------------------
function range() {
  if (view.since != null) return { since: view.since, until: view.until, live: false };
  const until = Date.now() / 1000;
  // never before the experiment began: a young experiment's 24 h fills the chart, in fine buckets
  const first = Math.min(started - 60, until - 600);
  if (view.hours === 0) return { since: first, until, live: true };
  return { since: Math.max(until - view.hours * 3600, first), until, live: true };
}

const toX = (t) => (view.elapsed ? (t - started) / 3600 : t);
const fromX = (x) => (view.elapsed ? started + x * 3600 : x);

// -- data -----------------------------------------------------------------------------------------------
function rowsOf(state) {
  // history then live points after its last bucket, both trimmed to the (sliding) window
  const { since } = range();
  const out = new Map();
  for (const unit of new Set([...state.history.keys(), ...state.live.keys()])) {
    const hist = state.history.get(unit) || [];
    const last = hist.length ? hist[hist.length - 1][0] : -Infinity;
    const rows = hist.filter((r) => r[0] >= since);
    for (const r of state.live.get(unit) || []) if (r[0] > last && r[0] >= since) rows.push(r);
    if (rows.length) out.set(unit, rows);
  }
  return out;
}

function countPoints(state) {
  let n = 0;
  for (const [unit, rows] of state.rows) if (!state.hidden.has(unit)) n += rows.length;
  state.el.dataset.points = String(n);
}

// a descriptor's y_min/y_max from its data attribute; absent means no hint
const hint = (text) => (text == null || text === "" ? null : Number(text));

function size(el) {
  const width = Math.max(el.clientWidth, 240);
  return { width, height: width < 500 ? 200 : 240 };
}

function markersInView() {
  return view.markers ? markers.map((m) => ({ ...m, x: toX(m.t) })) : [];
}

function build(state) {
  state.plot?.destroy();
  state.plot = null;
  state.el.replaceChildren();
  state.units = [...state.rows.keys()].sort((a, b) => labelOf(a).localeCompare(labelOf(b), undefined, { numeric: true }));
  if (!state.units.length) {
    const empty = document.createElement("p");
    empty.className = "muted chart-empty";
    empty.textContent = "No readings in this window.";
    state.el.append(empty);
    return;
  }
  let shown = markersInView();
  const opts = options({
    ...size(state.el),
    units: state.units,
    labelOf,
    hidden: state.hidden,
    decimals: Number(state.el.dataset.decimals || 2),
    yMin: hint(state.el.dataset.yMin),
    yMax: hint(state.el.dataset.yMax),
    elapsed: view.elapsed,
    zone,
    markers: () => shown,
    onToggle: (unit, on) => {
      if (on) state.hidden.delete(unit);
      else state.hidden.add(unit);
      countPoints(state);
    },
    onZoom: (u) => zoomed(state, u),
    onCursor: (u) => note(state, u, shown),
    // the y span drawn, for tests and anyone inspecting the page
    onDraw: (u) => (state.el.dataset.yScale = `${u.scales.y.min},${u.scales.y.max}`),
  });
  state.refreshMarkers = () => {
    shown = markersInView();
    state.el.dataset.markers = String(shown.length); // markers in the window (tests read it)
    state.plot?.redraw(false, false);
  };
  state.el.dataset.markers = String(shown.length);
  state.plot = new window.uPlot(opts, columns(state.rows, state.units, toX), state.el);
  tidyLegend(state.plot);
}

function zoomed(state, u) {
  const xs = u.data[0];
  if (!xs.length) return;
  const span = xs[xs.length - 1] - xs[0];
  state.zoomed = u.scales.x.min > xs[0] + span * 1e-6 || u.scales.x.max < xs[xs.length - 1] - span * 1e-6;
  state.box.querySelector("[data-reset-zoom]").hidden = !state.zoomed;
}

// the marker under the cursor (within 4 px), as text under the chart
function note(state, u, shown) {
  const out = state.box.querySelector("[data-marker-note]");
  const left = u.cursor.left;
  let text = "";
  if (left != null && left >= 0) {
    const near = shown.filter((m) => Math.abs(u.valToPos(m.x, "x") - left) <= 4 && !(m.unit && state.hidden.has(m.unit)));
    if (near.length) {
      const when = new Date(near[0].t * 1000).toLocaleString(undefined, { timeZone: zone, timeStyle: "short", dateStyle: "short" });
      text = `${when}: ${near.slice(0, 4).map((m) => (m.unit ? `${labelOf(m.unit)} ${m.text}` : m.text)).join("; ")}${near.length > 4 ? ` (+${near.length - 4})` : ""}`;
    }
  }
  if (out.textContent !== text) out.textContent = text;
}

function redraw(state) {
  state.rows = rowsOf(state);
  const units = [...state.rows.keys()].sort((a, b) => labelOf(a).localeCompare(labelOf(b), undefined, { numeric: true }));
  if (!state.plot || units.join() !== state.units.join()) build(state);
  else state.plot.setData(columns(state.rows, state.units, toX), !state.zoomed);
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
  const { since, until } = range();
  // a bucket per pixel: the min–max band keeps every peak, so more points would draw nothing new
  const points = Math.min(1000, Math.max(200, Math.round(state.el.clientWidth)));
  const params = new URLSearchParams({ since: String(since), until: String(until), points: String(points) });
  const asked = (state.asked = (state.asked || 0) + 1);
  try {
    const answer = await call("GET", `${state.el.dataset.url}?${params}`);
    if (asked !== state.asked) return; // a newer window was asked meanwhile
    state.history = new Map(Object.entries(answer.units || {}));
    state.live = new Map();
    state.zoomed = false;
    state.box.querySelector("[data-reset-zoom]").hidden = true;
    state.plot?.destroy();
    state.plot = null;
    schedule(state);
  } catch (error) {
    announce(`Chart ${state.el.dataset.chart}: ${error.message}`);
  }
}

async function loadMarkers() {
  const { since, until } = range();
  try {
    const answer = await call("GET", `${root.dataset.markers}?${new URLSearchParams({ since: String(since), until: String(until + 60) })}`);
    markers = answer.markers || [];
    for (const state of charts.values()) state.refreshMarkers?.();
  } catch (error) {
    announce(`Chart markers: ${error.message}`);
  }
}

function addMarker(marker) {
  if (!range().live) return;
  markers.push(marker);
  if (markers.length > 5000) markers.splice(0, markers.length - 5000);
  for (const state of charts.values()) state.refreshMarkers?.();
}

// -- live events -----------------------------------------------------------------------------------
function onReading({ series, unit, t, value }) {
  const state = charts.get(series);
  if (!state || typeof value !== "number" || typeof t !== "number" || !range().live) return;
  if (!state.live.has(unit)) state.live.set(unit, []);
  const rows = state.live.get(unit);
  const row = [t, value, value, value];
  if (!rows.length || rows[rows.length - 1][0] < t) rows.push(row);
  else {
    // out of order (a redelivery after a reconnect): keep the buffer sorted, once per time
    const i = rows.findIndex((r) => r[0] >= t);
    if (rows[i][0] !== t) rows.splice(i, 0, row);
  }
  if (rows.length > MAX_LIVE) rows.splice(0, rows.length - MAX_LIVE);
  schedule(state);
}

const jobStates = new Map();
function onJobState({ unit, job, state }) {
  const before = jobStates.get(`${unit}/${job}`);
  jobStates.set(`${unit}/${job}`, state);
  const t = Date.now() / 1000;
  if (state === "init" || (state === "ready" && (before === "disconnected" || before === "lost"))) {
    addMarker({ t, kind: "job_start", unit, text: `${job} started` });
  } else if ((state === "disconnected" || state === "lost") && before !== state) {
    addMarker({ t, kind: "job_stop", unit, text: `${job} ${state === "lost" ? "lost" : "stopped"}` });
  }
}

function onDosing({ unit, t, event, volume_change: volume }) {
  addMarker({ t, kind: "dosing", unit, text: `${String(event).replaceAll("_", " ")} ${volume} mL` });
}

function onOperation(op) {
  if (!String(op.requested_by || "").startsWith("profile:") || seenOps.has(op.id)) return;
  seenOps.add(op.id);
  const t = Date.parse(op.created_at) / 1000;
  addMarker({ t, kind: "profile", unit: op.targets?.length === 1 ? op.targets[0] : null, text: `profile: ${op.kind}` });
}

function shownRange(state) {
  const x = state.plot?.scales.x;
  return x ? [fromX(x.min), fromX(x.max)] : [-Infinity, Infinity];
}

// -- controls ---------------------------------------------------------------------------------------
function press(group, button) {
  for (const b of root.querySelectorAll(group)) b.setAttribute("aria-pressed", String(b === button));
}

function reloadAll() {
  for (const state of charts.values()) load(state);
  loadMarkers();
}

function customWindow(form) {
  const error = form.querySelector("[data-custom-error]");
  const since = zonedToEpoch(form.elements.from.value, zone);
  const until = form.elements.to.value ? zonedToEpoch(form.elements.to.value, zone) : Date.now() / 1000;
  error.textContent = "";
  if (since == null) error.textContent = "From: choose a date and time.";
  else if (!(until > since)) error.textContent = "To must be after From.";
  if (error.textContent) return;
  view.since = since;
  view.until = until;
  reloadAll();
}

function controls() {
  const custom = root.querySelector("[data-chart-custom]");
  root.addEventListener("click", (event) => {
    const win = event.target.closest("[data-window]");
    if (win) {
      press("[data-window]", win);
      custom.hidden = win.dataset.window !== "custom";
      if (win.dataset.window === "custom") {
        // start from the window shown now, in the lab's zone
        if (!custom.elements.from.value) custom.elements.from.value = epochToZoned(range().since, zone);
        return custom.elements.from.focus();
      }
      view.hours = Number(win.dataset.window);
      view.since = view.until = null;
      return reloadAll();
    }
    const axis = event.target.closest("[data-axis]");
    if (axis) {
      press("[data-axis]", axis);
      view.elapsed = axis.dataset.axis === "elapsed";
      for (const state of charts.values()) {
        state.zoomed = false;
        state.box.querySelector("[data-reset-zoom]").hidden = true;
        state.plot?.destroy();
        state.plot = null;
        schedule(state);
      }
    }
  });
  root.querySelector("[data-markers-toggle]").addEventListener("change", (event) => {
    view.markers = event.target.checked;
    for (const state of charts.values()) state.refreshMarkers?.();
  });
  custom.addEventListener("submit", (event) => {
    event.preventDefault();
    customWindow(custom);
  });
}

function start() {
  if (!root || !window.uPlot) return;
  controls();
  for (const el of document.querySelectorAll("[data-chart][data-url]")) {
    const box = el.closest("[data-chart-box]");
    const state = { el, box, history: new Map(), live: new Map(), rows: new Map(), units: [], hidden: new Set(), plot: null };
    charts.set(el.dataset.chart, state);
    new ResizeObserver(() => state.plot?.setSize(size(el))).observe(el);
    box.addEventListener("click", (event) => {
      const b = event.target.closest("[data-download]");
      if (b) download(b.dataset.download, state, { experiment: workspace?.dataset.experiment, labelOf, started, shown: shownRange(state) });
      if (event.target.closest("[data-reset-zoom]") && state.plot) {
        const xs = state.plot.data[0];
        state.plot.setScale("x", { min: xs[0], max: xs[xs.length - 1] });
      }
    });
  }
  reloadAll();
  const on = (name, fn) => document.addEventListener(`experiment:${name}`, (event) => fn(event.detail));
  on("reading", onReading);
  on("job_state", onJobState);
  on("dosing", onDosing);
  on("operation", onOperation);
  // a sliding window drops what slid out of it even when no reading arrives
  setInterval(() => {
    if (range().live && view.hours) for (const state of charts.values()) schedule(state);
  }, 60_000);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();

