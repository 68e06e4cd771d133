// /experiments: the list follows the cluster's `experiment` events (GET /api/events: an experiment created,
// archived, restored or deleted, from this tab or any other) by fetching its rows again (`?part=rows`, the
// template the page itself renders, so a row's buttons are the same). No polling: nothing is fetched
// until an event says something changed. A burst of events is one fetch at a time; `reset` reloads.
import { announce } from "./api.js";
import { onClusterEvent } from "./cluster_events.js";
import { localize } from "./time.js";

const root = document.querySelector("[data-experiments-live]");
let busy = false;
let again = false;

// the focused row button, to focus its twin in the new rows (a keyboard user keeps their place)
function focusedButton(body) {
  const el = document.activeElement;
  if (!el || !body.contains(el)) return null;
  const row = el.closest("tr[data-experiment]");
  return row ? { name: row.dataset.experiment, label: el.textContent.trim() } : null;
}

async function refresh() {
  if (busy) {
    again = true;
    return;
  }
  busy = true;
  try {
    do {
      again = false;
      const response = await fetch(root.dataset.rows, { headers: { Accept: "text/html" }, credentials: "same-origin" });
      if (!response.ok) return;
      const template = document.createElement("template");
      template.innerHTML = await response.text();
      const body = root.querySelector("[data-experiments-rows]");
      const focused = focusedButton(body);
      // the experiments ticked to compare stay ticked (rows of deleted experiments go with their tick)
      const ticked = new Set([...body.querySelectorAll('input[name="e"]:checked')].map((i) => i.value));
      for (const input of template.content.querySelectorAll('input[name="e"]')) input.checked = ticked.has(input.value);
      localize(template.content);
      body.replaceChildren(template.content);
      if (focused) {
        const row = [...body.querySelectorAll("tr[data-experiment]")].find((r) => r.dataset.experiment === focused.name);
        [...(row?.querySelectorAll("button") || [])].find((b) => b.textContent.trim() === focused.label)?.focus();
      }
    } while (again);
  } catch {
    // a dropped request: the next event fetches again
  } finally {
    busy = false;
  }
}

function listen() {
  // the page's one stream of GET /api/events, shared with the navigation's alert count
  onClusterEvent("experiment", (event) => {
    const { name, change } = JSON.parse(event.data);
    announce(`Experiment ${name} ${change}.`);
    refresh();
  });
  onClusterEvent("reset", () => refresh());
}

if (root) listen();
