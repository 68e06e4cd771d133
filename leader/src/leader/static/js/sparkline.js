// Unit cards' latest values (templates/_unit_latest.html): each `reading` from the experiment's event stream
// (re-dispatched by workspace.js as `workspace:reading`) updates the value, its age and the sparkline, and
// highlights the change briefly. The sparkline keeps a bounded buffer, drawn as an SVG polyline.
import { formatAge, formatDate } from "./time.js";

const MAX = 40;
const WIDTH = 100;
const HEIGHT = 24;
const PAD = 2;
const esc = (s) => (window.CSS && CSS.escape ? CSS.escape(s) : s);
const buffers = new WeakMap(); // item element -> values

// As pages/latest.py draws it: one value is a flat line, a flat series sits in the middle.
function points(values) {
  if (!values.length) return "";
  const drawn = values.length === 1 ? [values[0], values[0]] : values;
  const lo = Math.min(...drawn);
  const span = Math.max(...drawn) - lo;
  const step = WIDTH / (drawn.length - 1);
  const y = (v) => (span ? HEIGHT - PAD - ((v - lo) / span) * (HEIGHT - 2 * PAD) : HEIGHT / 2);
  return drawn.map((v, i) => `${(i * step).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
}

function buffer(item) {
  if (!buffers.has(item)) {
    let start = [];
    try {
      start = JSON.parse(item.dataset.spark || "[]");
    } catch {
      start = [];
    }
    buffers.set(item, start.filter((v) => typeof v === "number"));
  }
  return buffers.get(item);
}

function ageElement(item, iso) {
  const box = item.querySelector("[data-latest-age]");
  let time = box.querySelector("time");
  if (!time) {
    time = document.createElement("time");
    time.dataset.age = "";
    box.replaceChildren(time);
  }
  time.dateTime = iso;
  time.textContent = formatAge(iso);
  time.title = formatDate(iso);
}

function onReading({ series, unit, t, value }) {
  if (typeof value !== "number") return;
  const item = document.querySelector(`[data-unit-card="${esc(unit)}"] [data-latest="${esc(series)}"]`);
  if (!item) return;
  const v = value * Number(item.dataset.scale || 1);
  const values = buffer(item);
  values.push(v);
  if (values.length > MAX) values.splice(0, values.length - MAX);
  const shown = item.querySelector("[data-latest-value]");
  shown.textContent = v.toFixed(Math.min(Math.max(Number(item.dataset.decimals || 2), 0), 6));
  const unitText = item.querySelector("[data-latest-unit]");
  if (unitText) unitText.hidden = false;
  ageElement(item, new Date(t * 1000).toISOString());
  item.querySelector("polyline")?.setAttribute("points", points(values));
  item.querySelector("svg")?.removeAttribute("hidden");
  item.classList.remove("changed");
  void item.offsetWidth; // restart the highlight
  item.classList.add("changed");
}

document.addEventListener("workspace:reading", (event) => onReading(event.detail));
