// The badge macro's markup (templates/macros.html), for rows a script adds: shape + word, never colour alone.
const SHAPES = {
  succeeded: ["ok", "✓"], done: ["ok", "✓"], ok: ["ok", "✓"], cancelled: ["off", "■"], pending: ["off", "◌"],
  queued: ["off", "◌"], skipped: ["off", "○"], running: ["busy", "↻"], partial: ["warn", "◐"],
  interrupted: ["warn", "!"], failed: ["bad", "✕"], warning: ["warn", "◐"], error: ["bad", "✕"],
  synced: ["ok", "✓"], unsynced: ["warn", "!"], open: ["warn", "!"], resolved: ["ok", "✓"],
  delivered: ["ok", "✓"], sending: ["busy", "↻"],
};

export function badge(status, word = status) {
  const [tone, shape] = SHAPES[status] || ["off", "•"];
  const span = document.createElement("span");
  span.className = `badge badge-${tone}`;
  span.dataset.status = status;
  const mark = document.createElement("span");
  mark.className = "badge-shape";
  mark.setAttribute("aria-hidden", "true");
  mark.textContent = shape;
  span.append(mark, ` ${word}`);
  return span;
}
