// One way to call /api from a page: JSON, same-origin cookies, and the CSRF token on every mutating call.
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `The leader answered ${status}.`);
    this.status = status;
    this.body = body || {};
  }
}

// A dangerous action over a session whose password check is too old answers 403 reauth_required: ask for
// the password in a dialog, POST /api/reauth, then send the same request once more.
function askPassword() {
  return new Promise((resolve) => {
    const dialog = document.createElement("dialog");
    dialog.className = "dialog";
    dialog.id = "reauth-dialog";
    dialog.setAttribute("aria-labelledby", "reauth-title");
    const form = document.createElement("form");
    form.method = "dialog";
    const title = document.createElement("h2");
    title.id = "reauth-title";
    title.textContent = "Your password, please";
    const text = document.createElement("p");
    text.textContent = "This action needs a recent password check.";
    const label = document.createElement("label");
    label.htmlFor = "reauth-password";
    label.textContent = "Password";
    const input = document.createElement("input");
    input.type = "password";
    input.id = "reauth-password";
    input.name = "password";
    input.autocomplete = "current-password";
    const actions = document.createElement("div");
    actions.className = "actions";
    const ok = document.createElement("button");
    ok.className = "button button-primary";
    ok.value = "confirm";
    ok.textContent = "Confirm";
    const cancel = document.createElement("button");
    cancel.className = "button button-secondary";
    cancel.value = "cancel";
    cancel.textContent = "Cancel";
    actions.append(ok, cancel);
    form.append(title, text, label, input, actions);
    dialog.append(form);
    document.body.append(dialog);
    dialog.addEventListener(
      "close",
      () => {
        const password = dialog.returnValue === "confirm" ? input.value : null;
        dialog.remove();
        resolve(password);
      },
      { once: true },
    );
    dialog.showModal();
    input.focus();
  });
}

export async function call(method, url, body, retried = false) {
  try {
    return await send(method, url, body);
  } catch (error) {
    if (retried || !(error instanceof ApiError) || error.body?.error !== "reauth_required") throw error;
    const password = await askPassword();
    if (password === null) throw error;
    await send("POST", "/api/reauth", { password });
    return call(method, url, body, true);
  }
}

async function send(method, url, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export function announce(message) {
  const region = document.getElementById("announce");
  if (region) region.textContent = message;
}
