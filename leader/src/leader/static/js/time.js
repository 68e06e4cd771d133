// Times and numbers: the server renders ISO in <time datetime> (text in the lab's zone) and numbers in
// <data value>; here they are shown in the browser's locale, times still in the lab's zone, and ages
// ("3 min ago") keep counting.
const zone = document.querySelector('meta[name="lab-timezone"]')?.content || "UTC";
let dateFormat;
try {
  dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium", timeZone: zone });
} catch {
  dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium", timeZone: "UTC" });
}
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const STEPS = [[86400, "day"], [3600, "hour"], [60, "minute"], [1, "second"]];

export function formatDate(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateFormat.format(d);
}

export function formatAge(iso) {
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  if (!Number.isFinite(seconds)) return iso;
  if (seconds < 5) return relative.format(0, "second");
  for (const [size, unit] of STEPS) {
    if (seconds >= size) return relative.format(-Math.floor(seconds / size), unit);
  }
  return relative.format(0, "second");
}

const numbers = new Intl.NumberFormat();
const percents = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 0 });

export function localize(root = document) {
  for (const el of root.querySelectorAll("data[data-number]")) el.textContent = numbers.format(Number(el.value));
  for (const el of root.querySelectorAll("data[data-percent]")) el.textContent = percents.format(Number(el.value));
  for (const el of root.querySelectorAll("time[data-datetime]")) {
    el.textContent = formatDate(el.dateTime);
    el.title = `${el.dateTime} (${zone})`;
  }
  for (const el of root.querySelectorAll("time[data-age]")) {
    el.textContent = formatAge(el.dateTime);
    el.title = formatDate(el.dateTime);
  }
}

localize();
document.addEventListener("htmx:afterSettle", (event) => localize(event.target));
setInterval(() => {
  for (const el of document.querySelectorAll("time[data-age]")) el.textContent = formatAge(el.dateTime);
}, 15000);
