// Buttons `[data-action]` and forms `[data-api]` call /api; a `data-confirm` <dialog> asks first.
// `data-then`: "operation" opens the operation started, "reload" (the default) reloads, "show-check"
// shows a check result, "stay" leaves the page as it is (a live page shows the outcome), a path navigates
// (`{operation}` in it: the id of the operation started, e.g. a page that follows it). Errors appear in the form's error summary or the page's live region.
import { announce, call } from "./api.js";
import { showFormError } from "./form_errors.js";

function confirmWith(dialogId) {
  const dialog = document.getElementById(dialogId);
  if (!dialog) return Promise.resolve(true);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

function showCheck(el, answer) {
  const box = el.closest(".card")?.querySelector("[data-check-result]");
  if (!box) return;
  box.hidden = false;
  box.replaceChildren();
  const title = document.createElement("p");
  title.className = "check-ok";
  title.textContent = `✓ Reachable, token accepted; presence: ${answer.presence}.`;
  box.append(title);
  if (answer.versions && typeof answer.versions === "object") {
    const list = document.createElement("p");
    list.className = "small";
    list.textContent = Object.entries(answer.versions).map(([k, v]) => `${k} ${v}`).join(" · ");
    box.append(list);
  }
}

// What a failed check means for a unit not provisioned yet (the agent answers 502/504 through the leader).
function missingHint(error) {
  const text = error.message || "";
  if (/refused the cluster token/.test(text)) return "Missing: the cluster token — the agent runs but holds another token (run site.yml again).";
  if (/unreachable|did not accept|did not answer|deadline/.test(text)) return "Missing: a running agent at this address — provision the unit (deploy/ansible with the setup wizard’s inventory), or check its address and port.";
  return "";
}

function showCheckPending(el) {
  const box = el.closest(".card")?.querySelector("[data-check-result]");
  if (!box) return;
  box.hidden = false;
  const p = document.createElement("p");
  p.className = "muted";
  p.textContent = "Checking…";
  box.replaceChildren(p);
}

function showCheckFailure(el, error) {
  const box = el.closest(".card")?.querySelector("[data-check-result]");
  if (!box) return false;
  box.hidden = false;
  const p = document.createElement("p");
  p.className = "check-bad";
  p.textContent = `✕ ${error.message}`;
  box.replaceChildren(p);
  const hint = missingHint(error);
  if (hint) {
    const more = document.createElement("p");
    more.className = "small";
    more.textContent = hint;
    box.append(more);
  }
  return true;
}

// An answer's `warnings` (a profile run's unit not in the experiment) outlive the reload or navigation that
// follows: kept for this tab's next page, shown in its `[data-answer-warnings]` box (else announced).
const WARNINGS_KEY = "answer-warnings";

function keepWarnings(answer) {
  const list = (Array.isArray(answer?.warnings) ? answer.warnings : [])
    .map((w) => (typeof w === "string" ? w : w?.message))
    .filter(Boolean);
  if (list.length) sessionStorage.setItem(WARNINGS_KEY, JSON.stringify(list));
}

function showWarnings() {
  const kept = sessionStorage.getItem(WARNINGS_KEY);
  if (!kept) return;
  sessionStorage.removeItem(WARNINGS_KEY);
  let list;
  try {
    list = JSON.parse(kept);
  } catch {
    return;
  }
  const box = document.querySelector("[data-answer-warnings]");
  if (!box) {
    announce(`Started with warnings: ${list.join(" ")}`);
    return;
  }
  const title = document.createElement("strong");
  title.textContent = box.dataset.answerWarnings || "Started, with warnings:";
  const items = document.createElement("ul");
  for (const text of list) {
    const li = document.createElement("li");
    li.textContent = text;
    items.append(li);
  }
  box.replaceChildren(title, items);
  box.hidden = false;
}

showWarnings();

function after(el, answer) {
  keepWarnings(answer);
  const then = el.dataset.then || "reload";
  if (then === "operation" && answer?.operation) {
    window.location.assign(`/operations/${encodeURIComponent(answer.operation.id)}`);
  } else if (then === "show-check") {
    showCheck(el, answer);
  } else if (then === "reload") {
    window.location.reload();
  } else if (then.startsWith("/")) {
    const id = answer?.operation?.id;
    window.location.assign(id ? then.replace("{operation}", encodeURIComponent(id)) : then);
  } else {
    showWarnings(); // no new page: shown here
    // a live part of the page may want to look again at once (htmx: `hx-trigger="action-done from:body"`)
    el.dispatchEvent(new CustomEvent("action-done", { bubbles: true, detail: answer }));
  }
}

async function runButton(button) {
  if (button.dataset.confirm && !(await confirmWith(button.dataset.confirm))) return;
  button.disabled = true;
  const check = button.dataset.then === "show-check";
  if (check) showCheckPending(button);
  try {
    const body = button.dataset.body ? JSON.parse(button.dataset.body) : undefined;
    // a check always ends with an answer on the page: the leader gives up on the agent after 5 s, the page
    // gives up on the leader after 20 s
    const options = check ? { timeoutMs: 20000 } : {};
    const answer = await call(button.dataset.method || "POST", button.dataset.action, body, options);
    announce(`${button.textContent.trim()}: done.`);
    after(button, answer);
  } catch (error) {
    if (!(check && showCheckFailure(button, error))) {
      announce(`${button.textContent.trim()} failed: ${error.message}`);
    }
  } finally {
    button.disabled = false;
  }
}

// `data-body` on the form, then on the button that submitted it (one form, a button per variant: Run / Dry run)
function formBody(form, submitter) {
  const body = form.dataset.body ? JSON.parse(form.dataset.body) : {};
  if (submitter?.dataset.body) Object.assign(body, JSON.parse(submitter.dataset.body));
  let url = form.dataset.api;
  for (const el of form.elements) {
    if (el.name && el.type === "checkbox" && "bool" in el.dataset) {
      body[el.name] = el.checked; // `data-bool`: a true/false field, sent whether checked or not
      continue;
    }
    if (!el.name || el.value === "") continue;
    const placeholder = `{${el.name}}`;
    if (url.includes(placeholder)) {
      url = url.replace(placeholder, encodeURIComponent(el.value));
    } else {
      body[el.name] = el.type === "number" ? Number(el.value) : el.value;
    }
  }
  return { url, body };
}

// the contract names the field path ($.name) in the message: that field is marked when there is one
function fieldFor(form, message) {
  const match = /\$\.([A-Za-z_]+)/.exec(message);
  return match ? form.elements.namedItem(match[1]) : null;
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (button) {
    event.preventDefault();
    runButton(button);
  }
});

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-api]");
  if (!form) return;
  event.preventDefault();
  const submit = event.submitter || form.querySelector('[type="submit"]');
  if (submit) submit.disabled = true;
  try {
    const { url, body } = formBody(form, event.submitter);
    const answer = await call(form.dataset.method || "POST", url, body);
    after(form, answer);
  } catch (error) {
    showFormError(form, error.message, fieldFor(form, error.message));
  } finally {
    if (submit) submit.disabled = false;
  }
});
