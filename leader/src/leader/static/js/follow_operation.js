// Follow one operation to its end from its SSE stream (/api/operations/<id>/events: state, step, done),
// calling `onChange(op)` with the operation as it changes. Resolves with the finished operation.
const FINISHED = new Set(["succeeded", "partial", "failed", "cancelled", "interrupted"]);

export function follow(op, onChange) {
  onChange(op);
  if (FINISHED.has(op.status)) return Promise.resolve(op);
  return new Promise((resolve) => {
    let current = { ...op, steps: [...(op.steps || [])] };
    const source = new EventSource(`/api/operations/${encodeURIComponent(op.id)}/events`);
    const update = (next) => {
      current = next;
      onChange(current);
      if (FINISHED.has(current.status)) {
        source.close(); // the server ends the stream; without this the browser would reconnect
        resolve(current);
      }
    };
    source.addEventListener("state", (e) => update(JSON.parse(e.data)));
    source.addEventListener("done", (e) => update(JSON.parse(e.data)));
    source.addEventListener("step", (e) => {
      const step = JSON.parse(e.data);
      const steps = current.steps.filter((s) => s.unit !== step.unit).concat([step]);
      update({ ...current, steps });
    });
  });
}

// "succeeded: 2 of 2 units ok" plus each failed unit's reason (text only: details come from units)
export function summary(op, labelOf = (u) => u) {
  const steps = op.steps || [];
  const done = steps.filter((s) => s.status === "ok" || s.status === "failed").length;
  const ok = steps.filter((s) => s.status === "ok").length;
  let text = FINISHED.has(op.status)
    ? `${op.status}: ${ok} of ${steps.length} units ok`
    : `${op.status}: ${done} of ${steps.length} units done`;
  const failed = steps.filter((s) => s.status === "failed");
  if (failed.length) text += ` — ${failed.map((s) => `${labelOf(s.unit)}: ${s.detail || "failed"}`).join("; ")}`;
  return text;
}
