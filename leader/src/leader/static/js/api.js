// One way to call /api from a page: JSON, same-origin cookies, and the CSRF token on every mutating call.
// A dangerous action refused with `403 reauth_required` asks for the password (reauth.js) and is retried once.
import { askPassword } from "./reauth.js";

const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `The leader answered ${status}.`);
    this.status = status;
    this.body = body || {};
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

export async function call(method, url, body) {
  try {
    return await send(method, url, body);
  } catch (error) {
    if (error.status !== 403 || error.body?.error !== "reauth_required") throw error;
    const fresh = await askPassword((password) => send("POST", "/api/reauth", { password }));
    if (!fresh) throw new ApiError(403, { message: "Cancelled: this action needs your password again." });
    return send(method, url, body);
  }
}

export function announce(message) {
  const region = document.getElementById("announce");
  if (region) region.textContent = message;
}
