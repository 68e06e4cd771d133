// The experiment page's start and settings forms (templates/_job_dialogs.html): the automation picker shows
// the chosen automation's fields; on submit the browser's constraint checks (from the descriptor's type,
// min/max, required, choices) run first and name each field, then the leader checks again and its answer
// (an error naming the field, or the operation) shows in the form or the job's progress line.
import { call } from "./api.js";

const esc = (s) => (window.CSS && CSS.escape ? CSS.escape(s) : s);

function labelText(input) {
  const label = input.form.querySelector(`label[for="${esc(input.id)}"]`);
  return (label?.querySelector("[data-label-text]")?.textContent || label?.textContent || input.name).trim();
}

function fieldMessage(input, text) {
  const box = document.getElementById(`${input.id}-error`);
  input.closest(".field")?.classList.toggle("field-error", Boolean(text));
  if (text) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  if (!box) return;
  box.textContent = text;
  box.hidden = !text;
}

function showErrors(form, errors) {
  const summary = form.querySelector(".error-summary");
  const items = errors.map(([input, text]) => {
    const li = document.createElement("li");
    if (input?.id) {
      const a = document.createElement("a");
      a.href = `#${input.id}`;
      a.textContent = text;
      li.append(a);
    } else li.textContent = text;
    return li;
  });
  summary.querySelector("ul").replaceChildren(...items);
  summary.hidden = errors.length === 0;
  if (errors.length) summary.focus();
}

function clearErrors(form) {
  for (const input of form.querySelectorAll("[data-option]")) fieldMessage(input, "");
  showErrors(form, []);
}

// The browser's own checks, worded with the field's label (the descriptor's), without submitting.
function browserErrors(form) {
  const errors = [];
  for (const input of form.querySelectorAll("[data-option], textarea")) {
    if (input.disabled || input.closest("fieldset[disabled]") || input.checkValidity()) continue;
    const text = `${labelText(input)}: ${input.validationMessage}`;
    fieldMessage(input, text);
    errors.push([input, text]);
  }
  return errors;
}

function values(form) {
  const out = {};
  for (const input of form.querySelectorAll("[data-option]")) {
    if (input.disabled || input.closest("fieldset[disabled]") || input.value === "") continue;
    const kind = input.dataset.option;
    if (kind === "numeric") out[input.name] = Number(input.value);
    else if (kind === "boolean") out[input.name] = input.value === "true";
    else out[input.name] = input.value;
  }
  return out;
}

function overrides(form) {
  const area = form.querySelector('[name="config_overrides"]');
  const found = [];
  for (const [i, line] of (area?.value || "").split("\n").entries()) {
    if (!line.trim()) continue;
    const m = /^\s*(.+)\.([^.=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw Object.assign(new Error(`Config overrides, line ${i + 1}: write section.key=value`), { input: area });
    found.push([m[1].trim(), m[2], m[3].trim()]);
  }
  return found;
}

// A refusal from the leader names the field path (`$.options.target_rpm`): mark that field too.
function serverError(form, error) {
  const match = /`\$\.(?:options|settings)\.([A-Za-z0-9_]+)`/.exec(error.message || "");
  const input = match && [...form.querySelectorAll(`[name="${esc(match[1])}"]`)].find((i) => !i.closest("fieldset[disabled]"));
  if (input) fieldMessage(input, error.message);
  showErrors(form, [[input || error.input, error.message]]);
}

function progress(job, op) {
  const box = document.querySelector(`[data-job="${esc(job)}"] [data-op-progress]`);
  if (box && op) box.textContent = `${op.kind}: ${op.status} (0/${(op.targets || []).length} units)`;
}

async function submit(form, build) {
  clearErrors(form);
  const errors = browserErrors(form);
  if (errors.length) return showErrors(form, errors);
  const button = form.querySelector('[type="submit"]');
  button.disabled = true;
  try {
    const url = form.dataset.jobStart || form.dataset.jobSettings;
    const answer = await call(form.dataset.jobStart ? "POST" : "PATCH", url, build(form));
    form.closest("dialog")?.close();
    progress(url.split("/").at(-2), answer?.operation);
  } catch (error) {
    serverError(form, error);
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-job-start], form[data-job-settings]");
  if (!form) return;
  event.preventDefault();
  if (form.dataset.jobStart) {
    submit(form, (f) => ({ options: values(f), config_overrides: overrides(f) })).catch((error) => serverError(form, error));
  } else {
    submit(form, (f) => {
      const settings = values(f);
      if (!Object.keys(settings).length) throw new Error("Fill in at least one setting to change.");
      return { settings };
    }).catch((error) => serverError(form, error));
  }
});

// The automation picker: only the chosen automation's fieldset is shown and sent.
document.addEventListener("change", (event) => {
  const picker = event.target.closest("[data-automation-picker]");
  if (!picker) return;
  for (const set of picker.form.querySelectorAll("fieldset[data-automation]")) {
    const chosen = set.dataset.automation === picker.value;
    set.hidden = !chosen;
    set.disabled = !chosen;
  }
});

// A field's message goes once it is edited (it is shown again on submit if still wrong); showing new
// messages while typing would move the buttons under a pointer about to click them.
document.addEventListener("input", (event) => {
  const input = event.target.closest("form[data-job-start] [data-option], form[data-job-settings] [data-option]");
  if (input && input.getAttribute("aria-invalid")) fieldMessage(input, "");
});
