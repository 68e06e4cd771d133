// Runs of a profile: while a run is queued or running its plan is read again every second
// (GET /api/operations/<id>) and redrawn, so rows appear and advance live; cancel is actions.js's button.
import { badge } from "./badge.js";
import { formatDate } from "./time.js";

const OPEN = new Set(["queued", "running"]);

function row(entry) {
  const tr = document.createElement("tr");
  const cells = [formatDate(entry.at), entry.unit, entry.job, entry.action, null, entry.detail];
  cells.forEach((text, i) => {
    const td = document.createElement("td");
    if (i === 4) td.append(badge(entry.status));
    else td.textContent = text;
    if (i === 2) td.className = "mono";
    if (i === 5) td.className = "detail";
    tr.append(td);
  });
  return tr;
}

async function follow(section) {
  const response = await fetch(section.dataset.runUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (!response.ok) return false;
  const { operation } = await response.json();
  section.querySelector("[data-plan]").replaceChildren(...(operation.plan || []).map(row));
  section.querySelector("[data-run-status]").replaceChildren(badge(operation.status));
  const open = OPEN.has(operation.status);
  const cancel = section.querySelector("[data-run-cancel]");
  if (cancel) cancel.hidden = !open;
  return open;
}

for (const section of document.querySelectorAll("[data-run]")) {
  const status = section.querySelector("[data-run-status] [data-status]")?.dataset.status;
  if (!OPEN.has(status)) continue;
  const tick = async () => {
    let open = true;
    try {
      open = await follow(section);
    } catch {
      open = true; // a dropped request: try again on the next tick
    }
    if (open) setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
}
