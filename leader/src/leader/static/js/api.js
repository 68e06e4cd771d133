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

// `timeoutMs`: give up waiting after that long with an ApiError (status 0) that says so, never hang.
async function send(method, url, body, timeoutMs) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined,
    });
  } catch (error) {
    const message = error?.name === "TimeoutError"
      ? `No answer from the leader within ${Math.round(timeoutMs / 1000)} s.`
      : "The leader could not be reached.";
    throw new ApiError(0, { message });
  }
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

export async function call(method, url, body, { timeoutMs } = {}) {
  try {
    return await send(method, url, body, timeoutMs);
  } catch (error) {
    if (error.status !== 403 || error.body?.error !== "reauth_required") throw error;
    const fresh = await askPassword((password) => send("POST", "/api/reauth", { password }));
    if (!fresh) throw new ApiError(403, { message: "Cancelled: this action needs your password again." });
    return send(method, url, body, timeoutMs);
  }
}

export function announce(message) {
  const region = document.getElementById("announce");
  if (region) region.textContent = message;
}
