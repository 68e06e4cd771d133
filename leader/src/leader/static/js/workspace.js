// The experiment page: start dialogs from the descriptors, and everything live from the experiment's event
// stream (job states, settings, logs, operations; experiment_charts.js takes the readings). Text from units
// is set with textContent only; descriptor strings are data.
import { announce, call } from "./api.js";
import { badge } from "./badge.js";
import { formatDate } from "./time.js";

const root = document.querySelector("[data-workspace]");
const labels = root ? JSON.parse(root.dataset.labels || "{}") : {};

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
  // the same markup as the server's rows (a <time> in the lab's zone, the level as a badge), as text only
  const row = document.createElement("tr");
  const when = document.createElement("time");
  when.dateTime = entry.timestamp;
  when.dataset.datetime = "";
  when.textContent = formatDate(entry.timestamp);
  const unit = Object.assign(document.createElement("td"), { className: "mono", textContent: labelOf(entry.unit) });
  const job = Object.assign(document.createElement("td"), { className: "mono", textContent: entry.job || "" });
  const level = document.createElement("td");
  level.append(badge((entry.level || "").toLowerCase()));
  const message = Object.assign(document.createElement("td"), { className: "detail", textContent: entry.message });
  const cell = document.createElement("td");
  cell.append(when);
  row.append(cell, unit, job, level, message);
  body.prepend(row);
  while (body.rows.length > 100) body.lastElementChild.remove();
}

// -- the stream ---------------------------------------------------------------------------------------
function listen() {
  const source = new EventSource(root.dataset.events); // reconnects with Last-Event-ID by itself
  const handlers = { job_state: onJobState, setting: onSetting, log: onLog, operation: showOperation };
  // every event is also dispatched as `experiment:<name>` for the page's other modules (the charts)
  for (const name of ["job_state", "setting", "reading", "dosing", "log", "operation"]) {
    source.addEventListener(name, (event) => {
      const data = JSON.parse(event.data);
      handlers[name]?.(data);
      document.dispatchEvent(new CustomEvent(`experiment:${name}`, { detail: data }));
    });
  }
  source.addEventListener("reset", () => window.location.reload());
}

function start() {
  if (!root) return;
  listen();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
