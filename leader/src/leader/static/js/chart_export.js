// Downloads of one experiment chart: a PNG of the chart as shown (title, plot with its axes and markers,
// the shown units' legend) and a CSV of the data shown (the zoomed range, visible units only).
import { announce } from "./api.js";
import { COLORS } from "./timeseries_plot.js";

// The chart as a PNG: a white card with the title, the plot (axes included) and the shown units' legend.
function pngBlob(plot, title, entries) {
  const src = plot.ctx.canvas;
  const r = devicePixelRatio || 1;
  const pad = 12 * r;
  const line = 18 * r;
  const out = document.createElement("canvas");
  const ctx = out.getContext("2d");
  ctx.font = `${13 * r}px system-ui, sans-serif`;
  // lay the legend out first to know the height
  const slots = [];
  let x = pad;
  let y = 0;
  for (const { label, color } of entries) {
    const w = 16 * r + ctx.measureText(label).width + 14 * r;
    if (x + w > src.width + pad && x > pad) {
      x = pad;
      y += line;
    }
    slots.push({ x, y, label, color });
    x += w;
  }
  const titleH = 26 * r;
  const legendH = entries.length ? y + line + pad : 0;
  out.width = src.width + 2 * pad;
  out.height = titleH + src.height + legendH + pad;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = "#1b1f24";
  ctx.font = `600 ${14 * r}px system-ui, sans-serif`;
  ctx.fillText(title, pad, 18 * r);
  ctx.drawImage(src, pad, titleH);
  ctx.font = `${13 * r}px system-ui, sans-serif`;
  const top = titleH + src.height + pad;
  for (const s of slots) {
    ctx.fillStyle = s.color;
    ctx.fillRect(s.x, top + s.y + 4 * r, 12 * r, 4 * r);
    ctx.fillStyle = "#1b1f24";
    ctx.fillText(s.label, s.x + 16 * r, top + s.y + 10 * r);
  }
  return new Promise((resolve) => out.toBlob(resolve, "image/png"));
}

// CSV cells: quoted, and a leading = + - @ defused so a spreadsheet never runs a label as a formula.
function csvCell(value) {
  let text = value == null ? "" : String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r']/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

// `state`: the chart's (plot, units, hidden, rows, el); `ctx`: {experiment, labelOf, started, shown: [lo, hi]}.
// A chart of several experiments (the comparison page) also gives, per series: experimentOf and unitOf
// (the CSV then leads with an `experiment` column), startedOf, colorOf, and inView(series, t).
export async function download(kind, state, ctx) {
  const { experiment, labelOf, started, shown } = ctx;
  const colorOf = ctx.colorOf || ((u) => COLORS[state.units.indexOf(u) % COLORS.length]);
  const name = `${experiment || "experiment"}-${state.el.dataset.chart}`;
  let blob;
  if (kind === "png") {
    if (!state.plot) return announce("Nothing to download: no readings in this window.");
    const visible = state.units.filter((u) => !state.hidden.has(u));
    const entries = visible.map((u) => ({ label: labelOf(u), color: colorOf(u) }));
    blob = await pngBlob(state.plot, state.el.dataset.title, entries);
  } else {
    const [lo, hi] = shown || [-Infinity, Infinity];
    const inView = ctx.inView || ((u, t) => t >= lo && t <= hi);
    const startedOf = ctx.startedOf || (() => started);
    const several = Boolean(ctx.experimentOf);
    const lines = [`${several ? "experiment," : ""}unit,label,time,elapsed_hours,avg,min,max`];
    for (const unit of state.units || []) {
      if (state.hidden.has(unit)) continue;
      const lead = several ? [ctx.experimentOf(unit), ctx.unitOf(unit)] : [unit];
      for (const [t, avg, mn, mx] of state.rows.get(unit) || []) {
        if (!inView(unit, t)) continue;
        const cells = [...lead, labelOf(unit), new Date(t * 1000).toISOString(), ((t - startedOf(unit)) / 3600).toFixed(4), avg, mn, mx];
        lines.push(cells.map(csvCell).join(","));
      }
    }
    blob = new Blob([lines.join("\n") + "\n"], { type: "text/csv" });
  }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `${name}.${kind}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000); // after the browser took the download
}
