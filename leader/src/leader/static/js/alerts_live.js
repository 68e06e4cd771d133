// /alerts: the recorded alerts follow the `alert` events of GET /api/events (the page's one stream, shared
// with the navigation's count through cluster_events.js). An event carries the alert's answer, so its row is
// drawn from it without a fetch: from <template data-alert-row> (the server's own row macro), cells filled
// as text. Rows keep the server's order, open first, then newest first; an alert that resolves moves to
// the resolved ones. `reset` (events pruned while the tab slept) redraws every row from GET /api/alerts.
import { announce } from "./api.js";
import { badge } from "./badge.js";
import { onClusterEvent } from "./cluster_events.js";
import { localize } from "./time.js";

const table = document.querySelector("table[data-alerts]");
const body = table?.tBodies[0];
const proto = document.querySelector("template[data-alert-row]");
const summary = document.querySelector("[data-alerts-summary]");

// as the server's `time` filter writes it (Python's isoformat: microseconds, none when zero)
function timeTag(iso) {
  const el = document.createElement("time");
  el.dateTime = iso.replace(/\.(\d{3})Z$/, (_, ms) => (ms === "000" ? "Z" : `.${ms}000Z`));
  el.setAttribute("data-datetime", "");
  return el;
}

function deliveryItem(d) {
  const li = document.createElement("li");
  li.dataset.delivery = String(d.id);
  const text = document.createElement("span");
  text.className = "small";
  const target = document.createElement("span");
  target.className = "mono";
  target.textContent = d.target;
  text.append(`${d.event} · ${d.channel} `, target);
  const last = d.attempts[d.attempts.length - 1];
  if (last) {
    const n = d.attempts.length;
    const why = last.reason || last.status_code;
    text.append(` · ${n} attempt${n === 1 ? "" : "s"}${why ? ` · ${why}` : ""}`);
  }
  li.append(badge(d.status), " ", text);
  return li;
}

function row(alert) {
  const tr = proto.content.firstElementChild.cloneNode(true);
  const state = alert.resolved_at ? "resolved" : "open";
  const cell = (name) => tr.querySelector(`[data-cell="${name}"]`);
  tr.dataset.alert = String(alert.id);
  tr.dataset.alertKind = alert.kind;
  tr.dataset.alertState = state;
  cell("state").replaceChildren(badge(state));
  cell("summary").textContent = alert.summary;
  cell("kind").textContent = `${alert.kind} · ${alert.severity}`;
  cell("fired").replaceChildren(timeTag(alert.fired_at));
  if (alert.resolved_at) cell("resolved").replaceChildren(timeTag(alert.resolved_at));
  if (alert.deliveries.length) {
    cell("deliveries").querySelector("ul").replaceChildren(...alert.deliveries.map(deliveryItem));
  }
  localize(tr);
  return tr;
}

// the server's order: open before resolved, then the newest (highest id) first
const rank = (tr) => [tr.dataset.alertState === "open" ? 0 : 1, -Number(tr.dataset.alert)];
const before = (a, b) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

function place(tr) {
  const key = rank(tr);
  const next = [...body.querySelectorAll("tr[data-alert]")].find((other) => before(key, rank(other)));
  body.insertBefore(tr, next || null);
}

function recount() {
  const rows = [...body.querySelectorAll("tr[data-alert]")];
  const open = rows.filter((tr) => tr.dataset.alertState === "open").length;
  if (rows.length) body.querySelector("tr[data-alerts-empty]")?.remove();
  if (summary) summary.textContent = `${open} open · ${rows.length - open} resolved`;
}

// answers whether the alert was shown open before
function show(alert) {
  const old = body.querySelector(`tr[data-alert="${alert.id}"]`); // a resolve, or an event seen twice
  const wasOpen = old?.dataset.alertState === "open";
  old?.remove();
  place(row(alert));
  const rows = body.querySelectorAll("tr[data-alert]");
  for (let i = Number(table.dataset.shown) || rows.length; i < rows.length; i += 1) rows[i].remove();
  recount();
  return wasOpen;
}

async function redraw() {
  try {
    const limit = Number(table.dataset.shown) || 100;
    const response = await fetch(`/api/alerts?limit=${limit}`, { credentials: "same-origin" });
    if (!response.ok) return;
    const alerts = await response.json();
    for (const tr of body.querySelectorAll("tr[data-alert]")) tr.remove();
    for (const alert of alerts) place(row(alert));
    recount();
  } catch {
    // a dropped request: the next event draws its own row
  }
}

if (body && proto) {
  onClusterEvent("alert", (event) => {
    const alert = JSON.parse(event.data);
    // the navigation's notice reads out an alert that opens; one seen open here that resolves is said here
    if (show(alert) && alert.resolved_at) announce(`Alert resolved: ${alert.summary}`);
  });
  onClusterEvent("reset", redraw);
}
