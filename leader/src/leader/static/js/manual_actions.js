// Manual actions on /experiments/<exp>: dosing by mL or seconds and LED intensities. Checked here first
// (amounts, 0-100 %, a vial's safe fill volume) and again by the server; the operation's progress shows
// under its form. Texts from units are set as text only.
import { call } from "./api.js";
import { follow, summary } from "./follow_operation.js";
import { clearFormErrors, showFormError } from "./form_errors.js";

const LABELS = JSON.parse(document.querySelector("[data-workspace]")?.dataset.labels || "{}");
const labelOf = (unit) => LABELS[unit] || unit;
const FILLING = new Set(["add_media", "add_alternative_media"]);

class FieldError extends Error {
  constructor(message, input) {
    super(message);
    this.input = input;
  }
}

function number(input, lo, hi) {
  const value = Number(input.value);
  if (input.value.trim() === "" || !Number.isFinite(value) || value < lo || value > hi) return null;
  return value;
}

function doseRequest(form) {
  const action = form.elements.action.value;
  const by = form.elements.by.value;
  const amountInput = form.elements.amount;
  const amount = number(amountInput, 0, by === "ml" ? 1000 : 3600);
  if (amount === null || amount === 0) {
    const most = by === "ml" ? "1000 mL" : "3600 seconds";
    throw new FieldError(`\`$.${by}\`: give an amount above 0 and at most ${most}.`, amountInput);
  }
  const units = [...form.querySelectorAll('input[name="units"]:checked')].map((i) => i.value);
  if (!units.length) throw new FieldError("`$.units`: choose at least one unit.", form.querySelector('input[name="units"]'));
  if (FILLING.has(action)) {
    const vials = JSON.parse(form.dataset.vials || "[]").filter((v) => units.includes(v.unit));
    const over = vials.filter((v) => v.volume_ml + (by === "ml" ? amount : amount * v.ml_per_second) > v.max_fill_ml + 1e-9);
    if (over.length) {
      const why = over.map((v) => {
        const holds = `${v.volume_ml} mL${v.volume_known ? "" : " (assumed)"}`;
        return `${labelOf(v.unit)} holds ${holds}, its ${v.model} safe fill volume is ${v.max_fill_ml} mL`;
      });
      throw new FieldError(`\`$.${by}\`: refused, it would overfill: ${why.join("; ")}.`, amountInput);
    }
  }
  return { url: form.dataset.url.replace("ACTION", action), body: { [by]: amount, units } };
}

function ledRequest(form) {
  const intensities = {};
  for (const ch of ["A", "B", "C", "D"]) {
    const input = form.elements[ch];
    if (input.value.trim() === "") continue;
    const value = number(input, 0, 100);
    if (value === null) throw new FieldError(`\`$.intensities.${ch}\`: a percentage from 0 to 100.`, input);
    intensities[ch] = value;
  }
  if (!Object.keys(intensities).length) {
    throw new FieldError("`$.intensities`: give at least one channel.", form.elements.A);
  }
  return { url: form.dataset.url, body: { intensities } };
}

// a server refusal names the field (`$.ml`, `$.intensities.A`): mark the input it belongs to
function inputFor(form, message) {
  const match = /\$\.(ml|seconds|intensities\.([A-D]))/.exec(message);
  if (!match) return null;
  return match[2] ? form.elements[match[2]] : form.elements.amount;
}

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-manual]");
  if (!form) return;
  event.preventDefault();
  clearFormErrors(form);
  const box = form.querySelector("[data-manual-progress]");
  const submit = form.querySelector('[type="submit"]');
  box.textContent = ""; // the last outcome no longer describes what is on the form
  delete box.dataset.status;
  let request;
  try {
    request = form.dataset.manual === "dose" ? doseRequest(form) : ledRequest(form);
  } catch (error) {
    showFormError(form, error.message, error.input);
    return;
  }
  submit.disabled = true;
  box.textContent = "Sending…";
  try {
    const answer = await call("POST", request.url, request.body);
    await follow(answer.operation, (op) => {
      box.textContent = summary(op, labelOf);
      box.dataset.status = op.status;
    });
  } catch (error) {
    box.textContent = "";
    showFormError(form, error.message, inputFor(form, error.message));
  } finally {
    submit.disabled = false;
  }
});
