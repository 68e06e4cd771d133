// /operations/<id>: steps, progress, lines and status kept live from the operation's SSE stream.
// EventSource resumes by itself after a cut, sending `Last-Event-ID` (the last line's seq), so the
// server sends only the lines after it: none lost, none repeated.
import { announce } from "./api.js";
import { badge } from "./badge.js";
import { formatDate } from "./time.js";

const root = document.getElementById("operation");
const FINISHED = new Set(["succeeded", "partial", "failed", "cancelled", "interrupted"]);
const RETRYABLE = new Set(["partial", "interrupted", "failed"]);

function timeTag(iso) {
  const t = document.createElement("time");
  t.dateTime = iso;
  t.dataset.datetime = "";
  t.textContent = formatDate(iso);
  return t;
}

if (root) {
  const statusEl = document.querySelector("[data-operation-status]");
  const streamState = document.querySelector("[data-stream-state]");
  const lines = root.querySelector("[data-lines]");
  const progress = root.querySelector("[data-progress]");
  const progressText = root.querySelector("[data-progress-text]");
  const steps = new Map();

  function setStatus(op) {
    if (statusEl.dataset.operationStatus !== op.status) {
      statusEl.dataset.operationStatus = op.status;
      statusEl.replaceChildren(badge(op.status));
      announce(`Operation ${op.status}.`);
    }
    const finished = FINISHED.has(op.status);
    root.querySelector("[data-when-running]")?.toggleAttribute("hidden", finished);
    const retry = root.querySelector("[data-when-retryable]");
    if (retry) {
      const unfinished = (op.steps || []).some((s) => s.status !== "ok");
      retry.hidden = !(RETRYABLE.has(op.status) && unfinished);
    }
    if (op.finished_at) {
      root.querySelector("[data-finished-at]")?.replaceChildren(timeTag(op.finished_at));
    }
    for (const step of op.steps || []) setStep(step);
  }

  function setStep(step) {
    steps.set(step.unit, step.status);
    const row = [...root.querySelectorAll("[data-step]")].find((r) => r.dataset.step === step.unit);
    if (row) {
      row.querySelector("[data-step-status]").replaceChildren(badge(step.status));
      row.querySelector("[data-step-detail]").textContent = step.detail || "";
    }
    const done = [...steps.values()].filter((s) => s === "ok" || s === "failed").length;
    const total = Math.max(steps.size, Number(progress.max) || 1);
    progress.value = done;
    progress.textContent = `${done} of ${total}`;
    progressText.textContent = `${done} of ${total} units done`;
  }

  function addLine(line) {
    const li = document.createElement("li");
    li.dataset.seq = String(line.seq);
    li.className = `line line-${line.level}`;
    const level = document.createElement("span");
    level.className = "line-level";
    level.textContent = line.level;
    li.append(timeTag(line.time), " ", level);
    if (line.unit) {
      const unit = document.createElement("span");
      unit.className = "line-unit";
      unit.textContent = line.unit;
      li.append(" ", unit);
    }
    const text = document.createElement("span");
    text.className = "line-text";
    text.textContent = line.text; // text from units is never markup
    li.append(" ", text);
    lines.append(li);
  }

  for (const row of root.querySelectorAll("[data-step]")) {
    steps.set(row.dataset.step, row.querySelector("[data-status]")?.dataset.status);
  }

  if (root.dataset.finished !== "true") {
    const url = `${root.dataset.eventsUrl}?after=${encodeURIComponent(root.dataset.lastSeq || "0")}`;
    const source = new EventSource(url);
    source.addEventListener("open", () => { streamState.textContent = "live"; });
    source.addEventListener("error", () => {
      // the browser retries by itself; a refused stream (e.g. signed out) closes for good: say so
      streamState.textContent = source.readyState === EventSource.CLOSED
        ? "not live: reload the page to try again"
        : "reconnecting…";
    });
    source.addEventListener("state", (e) => setStatus(JSON.parse(e.data)));
    source.addEventListener("step", (e) => setStep(JSON.parse(e.data)));
    source.addEventListener("line", (e) => addLine(JSON.parse(e.data)));
    source.addEventListener("done", (e) => {
      source.close(); // the server ends the stream; without this the browser would reconnect
      streamState.textContent = "";
      setStatus(JSON.parse(e.data));
    });
  }
}
