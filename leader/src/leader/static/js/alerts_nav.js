// Open alerts on every page: the navigation's count (and the phone menu button's) follows the `alert`
// events of GET /api/events, and an alert that opens while the page is open shows a notice linking to
// /alerts. The notices sit in a polite status region: read out, never focused; dismissed by their button,
// or gone when their alert resolves. Alert text is the leader's and units', so it is set as text.
import { onClusterEvent } from "./cluster_events.js";

const MAX_NOTICES = 3;
const region = document.querySelector("[data-toasts]");

function showCount(n) {
  for (const el of document.querySelectorAll("[data-alerts-count]")) {
    el.dataset.alertsCount = String(n);
    el.hidden = n === 0;
    el.querySelector("[data-alerts-number]").textContent = String(n);
    el.querySelector("[data-alerts-text]").textContent = ` (${n} open alert${n === 1 ? "" : "s"})`;
  }
}

function notice(alert) {
  if (!region || region.querySelector(`[data-toast="${alert.id}"]`)) return;
  const box = document.createElement("div");
  box.className = `toast toast-${alert.severity === "critical" ? "bad" : "warn"}`;
  box.dataset.toast = String(alert.id);
  const text = document.createElement("p");
  const strong = document.createElement("strong");
  strong.textContent = alert.severity === "critical" ? "Critical alert: " : "Alert: ";
  const link = document.createElement("a");
  link.href = region.dataset.alertsUrl;
  link.textContent = "See alerts";
  text.append(strong, alert.summary, " ", link);
  const close = document.createElement("button");
  close.type = "button";
  close.className = "toast-close";
  close.setAttribute("aria-label", "Dismiss this notice");
  close.textContent = "×";
  close.addEventListener("click", () => box.remove());
  box.append(text, close);
  region.append(box);
  while (region.children.length > MAX_NOTICES) region.firstElementChild.remove();
}

async function recount() {
  // after a `reset` (the events since the page loaded were pruned): ask the alerts API once
  try {
    const response = await fetch("/api/alerts?state=open&limit=1000", { credentials: "same-origin" });
    if (response.ok) showCount((await response.json()).length);
  } catch {
    // the next event brings the count
  }
}

onClusterEvent("alert", (event) => {
  const alert = JSON.parse(event.data);
  if (Number.isInteger(alert.open_count)) showCount(alert.open_count);
  if (alert.state === "open") notice(alert);
  else region?.querySelector(`[data-toast="${alert.id}"]`)?.remove();
});
onClusterEvent("reset", recount);
