// The schedule editor: shows only the chosen trigger's fields, previews a cron expression's next five
// firing times in the chosen zone as you type (GET /api/schedules/preview, debounced), and sends the API's
// nested body ({name, trigger: {type, ...}, action: {kind, ...}}) with POST (create) or PATCH (edit).
import { announce, call } from "./api.js";
import { showFormError } from "./form_errors.js";

const DEBOUNCE_MS = 250;
const JOBLESS = new Set(["jobs.stop_all"]);

function showTrigger(form) {
  const type = form.elements.namedItem("type").value;
  for (const el of form.querySelectorAll("[data-trigger]")) el.hidden = el.dataset.trigger !== type;
  const kind = form.elements.namedItem("kind").value;
  for (const el of form.querySelectorAll("[data-needs-job]")) el.hidden = JOBLESS.has(kind);
  if (type === "cron") preview(form);
}

let timer = null;
let asked = 0;

function preview(form) {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    const ticket = ++asked;
    const list = form.querySelector("[data-preview-list]");
    const expression = form.elements.namedItem("expression").value.trim();
    const zone = form.elements.namedItem("timezone").value.trim() || form.dataset.labZone;
    const query = new URLSearchParams({ expression, timezone: zone, count: "5" });
    let items;
    try {
      const answer = await call("GET", `/api/schedules/preview?${query}`);
      items = answer.local.map((t) => t.replace("T", " "));
      form.querySelector("[data-cron-preview]").classList.remove("preview-bad");
    } catch (error) {
      items = null;
      if (ticket !== asked) return;
      const p = document.createElement("li");
      p.className = "check-bad";
      p.textContent = `✕ ${error.message}`;
      list.replaceChildren(p);
      return;
    }
    if (ticket !== asked) return; // an older answer arriving late never overwrites a newer one
    list.replaceChildren(
      ...items.map((t) => {
        const li = document.createElement("li");
        li.textContent = t;
        return li;
      }),
    );
  }, DEBOUNCE_MS);
}

function bodyOf(form) {
  const v = (name) => form.elements.namedItem(name).value.trim();
  const type = v("type");
  const trigger = { type };
  if (type === "interval") trigger.seconds = Number(v("seconds"));
  if (type === "cron") {
    trigger.expression = v("expression");
    if (v("timezone")) trigger.timezone = v("timezone");
  }
  if (type === "date") trigger.at = v("at");
  const action = { kind: v("kind"), experiment: v("experiment") };
  if (!JOBLESS.has(action.kind)) action.job = v("job");
  return { name: v("name"), trigger, action };
}

// `$.trigger.seconds` -> the seconds input; `$.name` -> the name input
function fieldFor(form, message) {
  const match = /\$\.(?:trigger\.|action\.)?([A-Za-z_]+)/.exec(message);
  return match ? form.elements.namedItem(match[1]) : null;
}

for (const form of document.querySelectorAll("form[data-schedule-form]")) {
  form.addEventListener("change", (event) => {
    if (["type", "kind", "timezone"].includes(event.target.name)) showTrigger(form);
  });
  form.addEventListener("input", (event) => {
    if (["expression", "timezone"].includes(event.target.name)) preview(form);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = form.querySelector('[type="submit"]');
    submit.disabled = true;
    try {
      const saved = await call(form.dataset.method, form.dataset.url, bodyOf(form));
      announce(`Schedule ${saved.name} saved.`);
      window.location.assign(`/schedules/${saved.id}`);
    } catch (error) {
      showFormError(form, error.message, fieldFor(form, error.message));
    } finally {
      submit.disabled = false;
    }
  });
  showTrigger(form);
}
