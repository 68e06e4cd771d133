// /logs: the live tail. Polls GET /api/logs?after=<newest> with the page's filters (tbody[data-tail]) and
// puts new lines on top - unless the reader has scrolled away from the top: then they wait behind a
// "N new lines" button, so the line being read never moves. Log text is set as text, never as HTML.
import { call } from "./api.js";
import { formatDate } from "./time.js";

const body = document.querySelector("tbody[data-tail]");
const EVERY_MS = 3000;
const KEEP = 1000; // rows kept on the page; older ones are a click on "Older logs" away

function cell(text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.textContent = text ?? "";
  return td;
}

function row(log) {
  const tr = document.createElement("tr");
  tr.dataset.logLevel = log.level;
  const when = document.createElement("time");
  when.dateTime = log.timestamp;
  when.dataset.datetime = "";
  when.textContent = formatDate(log.timestamp);
  const first = document.createElement("td");
  first.append(when);
  // as the server's badge macro draws a level (app.css tones warnings and errors on this table)
  const badge = document.createElement("span");
  badge.className = "badge badge-off";
  badge.dataset.status = log.level;
  const icon = document.createElement("span");
  icon.className = "badge-shape";
  icon.setAttribute("aria-hidden", "true");
  icon.textContent = "•";
  badge.append(icon, ` ${log.level}`);
  const level = document.createElement("td");
  level.append(badge);
  tr.append(first, cell(log.experiment, "mono"), cell(log.unit, "mono"), cell(log.job, "mono"), level,
    cell(log.message, "detail"));
  return tr;
}

if (body) {
  const button = document.querySelector("[data-new-lines]");
  const state = document.querySelector("[data-tail-state]");
  const empty = document.querySelector("[data-no-logs]");
  const held = []; // newest last
  let newest = body.dataset.newest || "";
  let busy = false;

  const reading = () => window.scrollY > body.closest(".card").offsetTop + 40;

  function show() {
    if (!held.length) return;
    const rows = held.splice(0).reverse().map(row);
    body.prepend(...rows);
    while (body.rows.length > KEEP) body.lastElementChild.remove();
    if (empty) empty.hidden = true;
    button.hidden = true;
  }

  function hold(logs) {
    held.push(...logs);
    if (!reading()) return show();
    button.textContent = held.length === 1 ? "1 new line" : `${held.length} new lines`;
    button.hidden = false;
  }

  button.addEventListener("click", () => {
    show();
    body.closest(".card").scrollIntoView({ block: "start" });
  });
  window.addEventListener("scroll", () => { if (held.length && !reading()) show(); }, { passive: true });

  async function poll() {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const sep = body.dataset.tail.includes("?") ? "&" : "?";
      const url = newest
        ? `${body.dataset.tail}${sep}after=${encodeURIComponent(newest)}&limit=500`
        : `${body.dataset.tail}${sep}limit=100`;
      const page = await call("GET", url);
      const logs = newest ? page.logs : page.logs.slice().reverse();
      if (page.newest) newest = page.newest;
      if (logs.length) hold(logs);
      if (state) state.textContent = "Live: new lines appear at the top.";
    } catch (error) {
      if (state) state.textContent = `Live updates paused: ${error.message} Retrying.`;
    } finally {
      busy = false;
    }
  }
  setInterval(poll, EVERY_MS);
}
