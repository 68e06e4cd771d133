// The export dialog (templates/_export_dialog.html): builds an ExportRequest from the form (times typed in
// the lab's zone are sent with that zone's offset), shows a preview of the first rows, starts the export
// and follows its operation's events to a download link. Every value from the store is set as text.
import { call } from "./api.js";

const form = document.querySelector("form[data-export]");

// "2026-11-21T09:30[:ss]" on the wall clock of `zone` -> ISO 8601 with that zone's offset at that moment
export function zoned(local, zone) {
  const wall = new Date(`${local.length === 16 ? `${local}:00` : local}Z`);
  const offsetAt = (date) => {
    const parts = new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(date);
    const get = (type) => Number(parts.find((p) => p.type === type).value);
    const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
    return asUtc - Math.floor(date.getTime() / 1000) * 1000;
  };
  let offset = offsetAt(wall);
  offset = offsetAt(new Date(wall.getTime() - offset)); // the offset at the instant itself (DST edges)
  const minutes = Math.round(offset / 60000);
  const sign = minutes < 0 ? "-" : "+";
  const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  const base = wall.toISOString().slice(0, 19);
  return `${base}${sign}${pad(Math.abs(minutes) / 60)}:${pad(Math.abs(minutes) % 60)}`;
}

function request() {
  const data = new FormData(form);
  const body = {};
  body.experiments = form.querySelector("[data-export-all]").checked ? "all" : data.getAll("experiments");
  body.datasets = data.getAll("datasets");
  const range = data.get("range");
  if (range === "last") body.last_hours = Number(data.get("last_hours"));
  if (range === "between") {
    for (const name of ["since", "until"]) {
      if (data.get(name)) body[name] = zoned(data.get(name), form.dataset.zone);
    }
  }
  return body;
}

function showError(error) {
  const summary = form.querySelector(".error-summary");
  const item = document.createElement("li");
  item.textContent = error.message;
  summary.querySelector("ul").replaceChildren(item);
  summary.hidden = false;
  summary.focus();
}

function clearError() {
  form.querySelector(".error-summary").hidden = true;
}

function table(t) {
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  wrap.tabIndex = 0;
  wrap.setAttribute("role", "region");
  wrap.setAttribute("aria-label", t.file);
  const el = document.createElement("table");
  el.className = "table table-small";
  const caption = document.createElement("caption");
  caption.textContent = t.file;
  const head = document.createElement("tr");
  for (const c of t.columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = c;
    head.append(th);
  }
  const thead = document.createElement("thead");
  thead.append(head);
  const tbody = document.createElement("tbody");
  for (const r of t.rows) {
    const tr = document.createElement("tr");
    for (const v of r) {
      const td = document.createElement("td");
      td.textContent = v === null ? "" : String(v);
      tr.append(td);
    }
    tbody.append(tr);
  }
  el.append(caption, thead, tbody);
  wrap.append(el);
  return wrap;
}

async function preview(button) {
  clearError();
  button.disabled = true;
  const box = form.querySelector("[data-export-preview]");
  try {
    const answer = await call("POST", form.dataset.preview, request());
    const note = document.createElement("p");
    note.className = "muted small";
    note.textContent = `First rows of each file (times in ${answer.timezone}).`;
    // files without rows are one line, not an empty table each
    const empty = answer.tables.filter((t) => !t.rows.length).map((t) => t.file);
    const parts = [note, ...answer.tables.filter((t) => t.rows.length).map(table)];
    if (empty.length) {
      const p = document.createElement("p");
      p.className = "muted small export-empty";
      p.textContent = `No rows: ${empty.join(", ")}`;
      parts.push(p);
    }
    box.replaceChildren(...parts);
    box.hidden = false;
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
}

function follow(op, files) {
  const panel = form.querySelector("[data-export-progress]");
  const bar = panel.querySelector("[data-export-bar]");
  const status = panel.querySelector("[data-export-status]");
  const link = panel.querySelector("[data-export-download]");
  panel.hidden = false;
  link.hidden = true;
  bar.max = Math.max(files, 1);
  bar.value = 0;
  status.textContent = `Export ${op.status}…`;
  let written = 0;
  const events = new EventSource(`/api/operations/${encodeURIComponent(op.id)}/events`);
  events.addEventListener("line", (e) => {
    const line = JSON.parse(e.data);
    if (/\.csv: \d+ rows$/.test(line.text)) bar.value = ++written;
    status.textContent = line.text;
  });
  events.addEventListener("done", (e) => {
    events.close();
    const done = JSON.parse(e.data);
    if (done.status === "succeeded") {
      bar.value = bar.max;
      status.textContent = `Export ready: ${written} file${written === 1 ? "" : "s"}.`;
      link.href = `${form.dataset.export}/${encodeURIComponent(done.id)}`;
      link.hidden = false;
      link.focus();
    } else {
      status.textContent = `Export ${done.status}: see the operation's lines.`;
    }
  });
}

if (form) {
  const dialog = form.closest("dialog");
  const all = form.querySelector("[data-export-all]");
  document.querySelector("[data-open-export]")?.addEventListener("click", () => dialog.showModal());
  form.querySelector("[data-export-close]").addEventListener("click", () => dialog.close());
  all.addEventListener("change", () => {
    for (const box of form.querySelectorAll('[name="experiments"]')) box.disabled = all.checked;
  });
  form.querySelector("[data-export-preview-button]").addEventListener("click", (e) => preview(e.currentTarget));
  for (const name of ["since", "until", "last_hours"]) {
    form.elements.namedItem(name)?.addEventListener("input", () => {
      form.querySelector(`[name="range"][value="${name === "last_hours" ? "last" : "between"}"]`).checked = true;
    });
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const submit = form.querySelector('[type="submit"]');
    submit.disabled = true;
    try {
      const body = request();
      const answer = await call("POST", form.dataset.export, body);
      const experiments = body.experiments === "all" ? all.closest("fieldset").querySelectorAll('[name="experiments"]').length : body.experiments.length;
      const datasets = body.datasets.length || form.querySelectorAll('[name="datasets"]').length;
      follow(answer.operation, experiments * datasets);
    } catch (error) {
      showError(error);
    } finally {
      submit.disabled = false;
    }
  });
}
