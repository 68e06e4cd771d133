// One experiment chart drawn with uPlot: per unit an average line over a min–max band (so the peaks inside
// a time bucket survive), markers as vertical lines, brush zoom. No DOM of its own beyond uPlot's; the
// controller (experiment_charts.js) owns data, windows and buttons. Descriptor strings are only text here.
export const COLORS = ["#0969da", "#b42318", "#1a7f37", "#8250df", "#bc4c00", "#1b7c83", "#cf222e", "#57606a", "#6639ba", "#953800"];
export const MARKER_STYLE = {
  job_start: { color: "#1a7f37", dash: [] },
  job_stop: { color: "#b42318", dash: [] },
  dosing: { color: "#0b5cad", dash: [3, 3] },
  profile: { color: "#8250df", dash: [6, 3] },
};

// Rows per unit ([t, avg, min, max], t ascending) to uPlot's columns on one shared x: [xs, avg, max, min,
// avg, max, min, …] in `units` order. A merge walk per unit: O(points), no per-point Map.
export function columns(rowsByUnit, units, toX = (t) => t) {
  let all = [];
  for (const unit of units) for (const r of rowsByUnit.get(unit) || []) all.push(r[0]);
  all.sort((a, b) => a - b);
  const ts = [];
  for (const t of all) if (ts.length === 0 || ts[ts.length - 1] !== t) ts.push(t);
  all = null;
  const out = [ts.map(toX)];
  for (const unit of units) {
    const avg = new Array(ts.length).fill(null);
    const hi = new Array(ts.length).fill(null);
    const lo = new Array(ts.length).fill(null);
    let i = 0;
    for (const [t, a, mn, mx] of rowsByUnit.get(unit) || []) {
      while (ts[i] < t) i++;
      avg[i] = a;
      lo[i] = mn ?? a;
      hi[i] = mx ?? a;
    }
    out.push(avg, hi, lo);
  }
  return out;
}

function drawMarkers(u, markers, hidden) {
  const { ctx, bbox } = u;
  const [min, max] = [u.scales.x.min, u.scales.x.max];
  ctx.save();
  ctx.lineWidth = Math.max(1, devicePixelRatio);
  let lastX = -Infinity;
  for (const m of markers) {
    if (m.x < min || m.x > max || (m.unit && hidden.has(m.unit))) continue;
    const x = Math.round(u.valToPos(m.x, "x", true));
    const style = MARKER_STYLE[m.kind] || MARKER_STYLE.profile;
    ctx.strokeStyle = style.color;
    ctx.globalAlpha = 0.55;
    ctx.setLineDash(style.dash.map((d) => d * devicePixelRatio));
    ctx.beginPath();
    ctx.moveTo(x + 0.5, bbox.top);
    ctx.lineTo(x + 0.5, bbox.top + bbox.height);
    ctx.stroke();
    if (x - lastX > 3) {
      // a small flag on top; markers closer than 3 px share one
      ctx.globalAlpha = 1;
      ctx.fillStyle = style.color;
      const s = 4 * devicePixelRatio;
      ctx.beginPath();
      ctx.moveTo(x - s, bbox.top);
      ctx.lineTo(x + s, bbox.top);
      ctx.lineTo(x, bbox.top + s * 1.4);
      ctx.fill();
    }
    lastX = x;
  }
  ctx.restore();
}

const ELAPSED_STEPS = [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200]
  .map((s) => s / 3600)
  .concat([24, 48, 96, 168, 336, 720]);

// hours since the start as h:mm (or h:mm:ss): 36:30 h, 0:05 h, 0:00:45 h
export function elapsedText(hours, seconds = false) {
  const step = seconds ? 1 : 60;
  const total = Math.round((Math.abs(hours) * 3600) / step) * step;
  const pad = (n) => String(n).padStart(2, "0");
  const text = `${Math.floor(total / 3600)}:${pad(Math.floor(total / 60) % 60)}${seconds ? `:${pad(total % 60)}` : ""} h`;
  return hours < 0 ? `−${text}` : text;
}

// the descriptor's decimals, or as many as the tick step needs to be written exactly (0.0575, 0.0580;
// 0.025, 0.050, not 0.03, 0.05)
function tickDecimals(splits, decimals) {
  const step = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : 1;
  let d = decimals;
  while (d < 6 && Math.abs(step * 10 ** d - Math.round(step * 10 ** d)) > 1e-6) d++;
  return d;
}

// The y scale: uPlot's padded fit of the data, widened to the descriptor's [yMin, yMax] (either may be
// null), as Pioreactor's y_axis_domain does: a flat trace stays flat, the axis holds still as data
// arrives, and data outside the hints still shows (the fit wins on that side, never clipping).
export function yRange(yMin, yMax) {
  return (u, dataMin, dataMax) => {
    const has = dataMin != null && dataMax != null && Number.isFinite(dataMin) && Number.isFinite(dataMax);
    if (!has) {
      if (yMin != null && yMax != null) return [yMin, yMax];
      const at = yMin ?? yMax ?? 0;
      return [yMin ?? at - 1, yMax ?? at + 1];
    }
    // padding relative to the whole span shown, so data just past a hint does not touch the frame
    const [lo, hi] = window.uPlot.rangeNum(Math.min(dataMin, yMin ?? dataMin), Math.max(dataMax, yMax ?? dataMax), 0.1, true);
    return [yMin != null && dataMin >= yMin ? yMin : lo, yMax != null && dataMax <= yMax ? yMax : hi];
  };
}

// A unit's line: a colour per unit by default; the comparison page gives one per experiment and a dash per unit.
const byIndex = (unit, i) => ({ color: COLORS[i % COLORS.length], dash: undefined });

// uPlot options for `units` (their labels and colours), with hooks calling back into the controller.
export function options({ width, height, units, labelOf, hidden, decimals, yMin = null, yMax = null, elapsed, zone, markers, onToggle, onZoom, onCursor, onDraw, styleOf = byIndex }) {
  const fmt = (v) => (v == null ? "–" : v.toFixed(decimals));
  const few = (u) => u.data[0].length <= 60; // a few readings show as dots too (one is no line)
  const series = [{ label: elapsed ? "Elapsed" : "Time", value: elapsed ? (u, v) => (v == null ? "–" : elapsedText(v, true)) : undefined }];
  const bands = [];
  units.forEach((unit, i) => {
    const { color, dash } = styleOf(unit, i);
    const show = !hidden.has(unit);
    const base = series.length;
    series.push({ label: labelOf(unit), stroke: color, dash, width: 1.5, spanGaps: true, points: { show: few, size: 5 }, show, value: (u, v) => fmt(v) });
    series.push({ label: "max", stroke: color + "00", width: 0, spanGaps: true, points: { show: false }, show, value: (u, v) => fmt(v) });
    series.push({ label: "min", stroke: color + "00", width: 0, spanGaps: true, points: { show: false }, show, value: (u, v) => fmt(v) });
    bands.push({ series: [base + 1, base + 2], fill: color + "2e" });
  });
  const axisFont = "12px system-ui, sans-serif";
  const xAxis = { stroke: "#57606a", font: axisFont, grid: { stroke: "#eaeef2" }, ticks: { stroke: "#d0d7de" }, space: 70 };
  if (elapsed) {
    // hours since the start on minute-friendly steps, written h:mm (36:30 h, 0:05 h)
    // our own ticks: uPlot's numeric steps are decimal (0.25 h), these are clock-friendly (10 s … 30 days)
    xAxis.splits = (u, axis, min, max) => {
      const px = u.bbox.width / devicePixelRatio;
      const step = ELAPSED_STEPS.find((h) => (h / (max - min)) * px >= 70) || ELAPSED_STEPS.at(-1);
      const out = [];
      for (let v = Math.ceil(min / step) * step; v <= max; v += step) out.push(v);
      return out;
    };
    xAxis.values = (u, splits) => {
      const step = splits.length > 1 ? splits[1] - splits[0] : 1;
      return splits.map((v) => elapsedText(v, step < 1 / 60 - 1e-9));
    };
  }
  const opts = {
    width,
    height,
    series,
    bands,
    legend: { show: true, live: true },
    padding: [12, 28, 0, 0], // room for the marker flags on top and the last time label on the right
    cursor: { drag: { x: true, y: false, setScale: true }, points: { size: 6 } },
    scales: { x: { time: !elapsed }, y: { range: yRange(yMin, yMax) } },
    axes: [
      xAxis,
      { stroke: "#57606a", font: axisFont, grid: { stroke: "#eaeef2" }, ticks: { stroke: "#d0d7de" }, size: 58, values: (u, splits) => splits.map((v) => v.toFixed(tickDecimals(splits, decimals))) },
    ],
    hooks: {
      draw: [
        (u) => {
          drawMarkers(u, markers(), hidden);
          onDraw?.(u);
        },
      ],
      setSeries: [
        (u, i) => {
          if (i == null || (i - 1) % 3 !== 0) return;
          const shown = u.series[i].show;
          u.setSeries(i + 1, { show: shown });
          u.setSeries(i + 2, { show: shown });
          onToggle(units[(i - 1) / 3], shown);
        },
      ],
      setScale: [(u, key) => key === "x" && onZoom(u)],
      setCursor: [(u) => onCursor(u)],
    },
  };
  if (!elapsed && zone) opts.tzDate = (ts) => window.uPlot.tzDate(new Date(ts * 1e3), zone);
  return opts;
}

// After a build: the min/max rows are not legend entries (one entry per unit toggles line and band).
export function tidyLegend(plot) {
  plot.root.querySelectorAll(".u-legend .u-series").forEach((row, i) => {
    if (i > 0 && (i - 1) % 3 !== 0) row.classList.add("band-series");
  });
}
