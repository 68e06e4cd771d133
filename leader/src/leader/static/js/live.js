// The dashboard's live part (htmx polls it): announce changes of unit presence to screen readers.
import { announce } from "./api.js";

function presences() {
  const out = new Map();
  for (const row of document.querySelectorAll("[data-unit-row]")) {
    out.set(row.dataset.unitRow, row.querySelector("[data-status]")?.dataset.status);
  }
  return out;
}

let before = presences();
document.addEventListener("htmx:afterSettle", () => {
  const now = presences();
  const changes = [];
  for (const [unit, status] of now) {
    if (before.has(unit) && before.get(unit) !== status) changes.push(`${unit} is ${status}`);
  }
  if (changes.length) announce(changes.join(". "));
  before = now;
});
