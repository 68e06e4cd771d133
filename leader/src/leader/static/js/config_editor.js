// /config: the INI is checked as you type (POST …/check saves nothing) and each problem is listed and marked
// on its line; "Review changes" shows the unified diff a save would make; "Save and sync" saves, then starts
// the sync operation and opens the page on it, where each unit's result stays live until the sync ends.
import { announce, call } from "./api.js";
import { badge } from "./badge.js";
import { refreshSynced } from "./config_synced.js";
import { attach } from "./ini_highlight.js";

const root = document.getElementById("config-editor");
const textarea = document.getElementById("config-text");
const list = document.querySelector("[data-config-diagnostics]");
const review = document.querySelector("[data-config-review]");
const diffBox = document.querySelector("[data-config-diff]");
const stateText = document.querySelector("[data-config-state]");
const editor = root && textarea ? attach(textarea) : null;

function say(text) {
  if (stateText) stateText.textContent = text;
  announce(text);
}

function renderDiagnostics(diagnostics) {
  editor.show(list, diagnostics, { mark: () => badge("failed"), fallback: "file" });
}

function renderDiff(text) {
  const rows = text.split("\n").map((line) => {
    const span = document.createElement("span");
    span.className = "diff-line";
    if (line.startsWith("+++") || line.startsWith("---")) span.classList.add("diff-file");
    else if (line.startsWith("@@")) span.classList.add("diff-hunk");
    else if (line.startsWith("+")) span.classList.add("diff-add");
    else if (line.startsWith("-")) span.classList.add("diff-del");
    span.textContent = line;
    return span; // a block per line (CSS)
  });
  diffBox.replaceChildren(...rows);
}

let asked = 0;
async function check() {
  const mine = ++asked;
  const answer = await call("POST", root.dataset.checkUrl, { content: textarea.value });
  if (mine !== asked) return null; // a slower, older answer never overwrites a newer one
  renderDiagnostics(answer.diagnostics);
  return answer;
}

async function openReview() {
  let answer;
  try {
    answer = await check();
  } catch (error) {
    return say(error.message);
  }
  if (!answer) return;
  if (answer.diagnostics.length) {
    review.hidden = true;
    const n = answer.diagnostics.length;
    say(`Not saved: fix ${n === 1 ? "the problem" : `the ${n} problems`} listed above first.`);
    list.querySelector("a")?.focus();
    return;
  }
  if (!answer.changed) {
    review.hidden = true;
    return say("Nothing changed since the saved version.");
  }
  renderDiff(answer.diff);
  review.hidden = false;
  say("Review the changes, then save.");
  diffBox.focus();
}

async function save(mode, button) {
  const body = { content: textarea.value };
  if (root.dataset.sha256) body.sha256 = root.dataset.sha256;
  for (const b of review.querySelectorAll("button")) b.disabled = true;
  try {
    const saved = await call("PUT", root.dataset.putUrl, body);
    root.dataset.sha256 = saved.sha256;
    if (mode !== "sync") return window.location.assign(root.dataset.pageUrl);
    say("Saved; syncing…");
    try {
      const answer = await call("POST", root.dataset.syncUrl, JSON.parse(root.dataset.syncBody));
      const sep = root.dataset.pageUrl.includes("?") ? "&" : "?";
      window.location.assign(`${root.dataset.pageUrl}${sep}sync=${encodeURIComponent(answer.operation.id)}`);
    } catch (error) {
      say(`Saved, but the sync was refused: ${error.message}`);
    }
  } catch (error) {
    if (error.body?.diagnostics) {
      renderDiagnostics(error.body.diagnostics);
      review.hidden = true;
    }
    say(`Not saved: ${error.message}`);
  } finally {
    for (const b of review.querySelectorAll("button")) b.disabled = false;
    button.focus();
  }
}

if (editor) {
  editor.listen(list);
  if (!textarea.readOnly) {
    let timer = null;
    textarea.addEventListener("input", () => {
      clearTimeout(timer);
      review.hidden = true; // a diff shown is the diff of what will be saved: hide it once the text changes
      timer = setTimeout(() => check().catch((error) => say(error.message)), 300);
    });
    document.querySelector("[data-config-review-button]")?.addEventListener("click", openReview);
    document.querySelector("[data-config-review-close]")?.addEventListener("click", () => {
      review.hidden = true;
      textarea.focus();
    });
    for (const button of document.querySelectorAll("[data-config-save]")) {
      button.addEventListener("click", () => save(button.dataset.configSave, button));
    }
  }
}

// -- the sync this page was opened on: each unit's step, live until the operation ends --------------------
const sync = document.querySelector("[data-sync]");
if (sync && sync.dataset.syncFinished !== "true") {
  const status = sync.querySelector("[data-sync-status]");
  const setStep = (step) => {
    const row = [...sync.querySelectorAll("[data-sync-unit]")].find((r) => r.dataset.syncUnit === step.unit);
    if (!row) return;
    row.querySelector("[data-step-status]").replaceChildren(badge(step.status));
    row.querySelector("[data-step-detail]").textContent = step.detail || "";
  };
  const setState = (op) => {
    if (status.dataset.syncStatus !== op.status) {
      status.dataset.syncStatus = op.status;
      status.replaceChildren(badge(op.status));
    }
    for (const step of op.steps || []) setStep(step);
  };
  const source = new EventSource(sync.dataset.eventsUrl);
  source.addEventListener("state", (e) => setState(JSON.parse(e.data)));
  source.addEventListener("step", (e) => setStep(JSON.parse(e.data)));
  source.addEventListener("done", (e) => {
    source.close(); // the server ends the stream; without this the browser would reconnect
    const op = JSON.parse(e.data);
    setState(op);
    announce(`Sync ${op.status}.`);
    refreshSynced().catch(() => {}); // the marks stay as loaded; a reload shows them
  });
}
