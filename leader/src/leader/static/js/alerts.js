// The alerts page's channels (admins): PUT /api/alerts/channels replaces every channel, so each change sends
// the page's current channels with that one change; errors name a path (`$.webhooks[0].url`, `$.email.host`)
// and appear next to that field. The test alert shows each delivery's outcome.
import { announce, call } from "./api.js";
import { clearFormErrors, showFormError } from "./form_errors.js";

const root = document.querySelector("[data-channels]");
const URL_ = "/api/alerts/channels";

function current() {
  const view = JSON.parse(root.dataset.channels);
  const webhooks = view.webhooks.map((w) => ({ url: w.url, enabled: w.enabled }));
  // the stored password is write-only: `null` keeps it
  const email = view.email ? { ...view.email, password: null } : null;
  if (email) delete email.password_set;
  return { webhooks, email };
}

async function save(form, body, fieldFor) {
  clearFormErrors(form);
  const submit = form.querySelector('[type="submit"]');
  if (submit) submit.disabled = true;
  try {
    await call("PUT", URL_, body);
    announce("Channels saved.");
    window.location.reload();
  } catch (error) {
    showFormError(form, error.message, fieldFor(error.message || ""));
  } finally {
    if (submit) submit.disabled = false;
  }
}

if (root) {
  const hookForm = root.querySelector("[data-webhook-form]");
  const hookInput = hookForm.querySelector("#webhook-url");
  hookForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = current();
    body.webhooks.push({ url: hookInput.value.trim(), enabled: true });
    save(hookForm, body, () => hookInput);
  });

  for (const button of root.querySelectorAll("[data-remove-webhook]")) {
    button.addEventListener("click", () => {
      const body = current();
      body.webhooks.splice(Number(button.dataset.removeWebhook), 1);
      save(hookForm, body, () => null);
    });
  }

  const mailForm = root.querySelector("[data-email-form]");
  const value = (path) => mailForm.querySelector(`[data-path="${path}"]`).value.trim();
  mailForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = current();
    const password = mailForm.querySelector('[data-path="password"]').value;
    body.email = {
      host: value("host"),
      port: Number(value("port")) || 0,
      starttls: value("starttls"),
      username: value("username"),
      password: password === "" ? null : password,
      from: value("from"),
      to: value("to").split(",").map((a) => a.trim()).filter(Boolean),
      enabled: true,
    };
    save(mailForm, body, (message) => {
      const match = /\$\.email\.([a-z_]+)/.exec(message);
      return match ? mailForm.querySelector(`[data-path="${match[1]}"]`) : null;
    });
  });
  root.querySelector("[data-remove-email]")?.addEventListener("click", () => {
    const body = current();
    body.email = null;
    save(mailForm, body, () => null);
  });

  const test = root.querySelector("[data-send-test]");
  const box = root.querySelector("[data-test-result]");
  test.addEventListener("click", async () => {
    test.disabled = true;
    box.hidden = false;
    const waiting = document.createElement("p");
    waiting.className = "muted";
    waiting.textContent = "Sending…";
    box.replaceChildren(waiting);
    try {
      const alert = await call("POST", test.dataset.sendTest, undefined, { timeoutMs: 60000 });
      const lines = alert.deliveries.map((d) => {
        const last = d.attempts[d.attempts.length - 1];
        const p = document.createElement("p");
        const ok = d.status === "delivered";
        p.className = ok ? "check-ok" : d.status === "failed" ? "check-bad" : "";
        const why = last ? ` (${last.reason || last.status_code || "no answer"}, ${last.duration_ms} ms)` : "";
        p.textContent = `${ok ? "✓" : d.status === "failed" ? "✕" : "…"} ${d.channel} ${d.target}: ${d.status}${why}`;
        p.dataset.testDelivery = d.status;
        return p;
      });
      const head = document.createElement("p");
      head.textContent = `Test alert #${alert.id}:`;
      box.replaceChildren(head, ...lines);
      announce(`Test alert sent: ${lines.map((p) => p.textContent).join("; ")}`);
    } catch (error) {
      const p = document.createElement("p");
      p.className = "check-bad";
      p.textContent = `✕ ${error.message}`;
      box.replaceChildren(p);
    } finally {
      test.disabled = false;
    }
  });
}
