// /logs: the live tail. Follows GET /api/logs/events (tbody[data-tail]: the page's filters, and `after` =
// the last log stored when the page was read) and puts new lines on top - unless the reader has scrolled
// away from the top: then they wait behind an "N new lines" button, so the line being read never moves.
// No polling: EventSource resumes by itself after a cut with Last-Event-ID, so no line is lost or shown
// twice. Log text is set as text, never as HTML.
import { badge } from "./badge.js";
import { formatDate } from "./time.js";

const body = document.querySelector("tbody[data-tail]");
const KEEP = 1000; // rows kept on the page; older ones are a click on "Older logs" away
const QUIET_MS = 4000; // a reconnect quicker than this (the server ends a stream now and then) says nothing

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
  const level = document.createElement("td");
  level.append(badge(log.level)); // as the server's badge macro draws a level
  tr.append(first, cell(log.experiment, "mono"), cell(log.unit, "mono"), cell(log.job, "mono"), level,
    cell(log.message, "detail"));
  return tr;
}

if (body) {
  const button = document.querySelector("[data-new-lines]");
  const state = document.querySelector("[data-tail-state]");
  const empty = document.querySelector("[data-no-logs]");
  const held = []; // newest last; at most KEEP (older ones would be trimmed on showing anyway)
  let waiting = 0; // lines behind the button, trimmed or not
  let flushing = null;
  let quiet = null;

  const reading = () => window.scrollY > body.closest(".card").offsetTop + 40;
  const say = (text) => { if (state && state.textContent !== text) state.textContent = text; };

  function show() {
    if (!held.length) return;
    const rows = held.splice(0).reverse().map(row);
    body.prepend(...rows);
    while (body.rows.length > KEEP) body.lastElementChild.remove();
    if (empty) empty.hidden = true;
    waiting = 0;
    button.hidden = true;
  }

  // a burst of events is one change of the table
  function flush() {
    flushing = null;
    if (!reading()) return show();
    button.textContent = waiting === 1 ? "1 new line" : `${waiting} new lines`;
    button.hidden = false;
  }

  button.addEventListener("click", () => {
    show();
    body.closest(".card").scrollIntoView({ block: "start" });
  });
  window.addEventListener("scroll", () => { if (held.length && !reading()) show(); }, { passive: true });

  const source = new EventSource(body.dataset.tail);
  source.addEventListener("log", (event) => {
    held.push(JSON.parse(event.data));
    if (held.length > KEEP) held.shift();
    waiting += 1;
    flushing ??= setTimeout(flush, 50);
  });
  source.addEventListener("reset", () => {
    say("Live: some lines were missed while disconnected (reload to see them); new lines appear at the top.");
  });
  source.addEventListener("open", () => {
    clearTimeout(quiet);
    quiet = null;
    say("Live: new lines appear at the top.");
  });
  source.addEventListener("error", () => {
    // a refused stream (e.g. signed out) closes for good; otherwise the browser reconnects by itself
    if (source.readyState === EventSource.CLOSED) {
      say("Live updates stopped: reload the page to try again.");
      return;
    }
    quiet ??= setTimeout(() => say("Live updates paused: reconnecting…"), QUIET_MS);
  });
}
