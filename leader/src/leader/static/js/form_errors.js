// A form's errors, GOV.UK style: the message beside the field it names (`#<id>-error`, the field marked
// invalid) and again in the form's error summary, which takes focus so a screen reader reads it first.
// Every form script shows errors through here, so they look and read the same everywhere.
import { announce } from "./api.js";

export function clearFormErrors(form) {
  const summary = form.querySelector(".error-summary");
  if (summary) summary.hidden = true;
  for (const p of form.querySelectorAll(".field-message")) p.hidden = true;
  for (const f of form.querySelectorAll(".field")) f.classList.remove("field-error");
  for (const i of form.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
}

// `input`: the field the message is about, or null (the message then stands in the summary only); a form
// without a summary has the message announced instead.
export function showFormError(form, message, input) {
  clearFormErrors(form);
  const field = input instanceof HTMLElement ? input : null;
  if (field) {
    const own = form.querySelector(`#${CSS.escape(field.id)}-error`);
    if (own) {
      own.hidden = false;
      own.lastChild.textContent = ` ${message}`;
    }
    field.closest(".field")?.classList.add("field-error");
    field.setAttribute("aria-invalid", "true");
  }
  const summary = form.querySelector(".error-summary");
  if (!summary) return announce(message);
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.href = field ? `#${field.id}` : "#";
  link.textContent = message;
  item.append(link);
  summary.querySelector("ul").replaceChildren(item);
  summary.hidden = false;
  summary.focus();
}
