// The setup wizard's own steps: the broker check, the rollout's SSH key (make, copy, rotate with a fresh
// password) and the optional first experiment (created, then the checked units assigned).
import { announce, call } from "./api.js";
import { clearFormErrors, showFormError } from "./form_errors.js";

function say(box, ok, text, more) {
  box.hidden = false;
  const p = document.createElement("p");
  p.className = ok ? "check-ok" : "check-bad";
  p.textContent = `${ok ? "✓" : "✕"} ${text}`;
  box.replaceChildren(p);
  if (more) {
    const detail = document.createElement("p");
    detail.className = "small";
    detail.textContent = more;
    box.append(detail);
  }
  announce(p.textContent);
}

function pending(box) {
  box.hidden = false;
  const p = document.createElement("p");
  p.className = "muted";
  p.textContent = "Checking…";
  box.replaceChildren(p);
}

const brokerButton = document.querySelector("[data-broker-check]");
if (brokerButton) {
  const box = document.querySelector("[data-broker-result]");
  brokerButton.addEventListener("click", async () => {
    brokerButton.disabled = true;
    pending(box);
    try {
      const r = await call("POST", brokerButton.dataset.brokerCheck, undefined, { timeoutMs: 20000 });
      const as = r.username ? ` as ${r.username}` : "";
      if (r.ok) say(box, true, `Broker reachable at ${r.broker}${as} (${r.duration_ms} ms).`);
      else say(box, false, `Broker at ${r.broker} not reachable: ${r.reason}`, "Fix MQTT_URL in the leader's settings or start the broker, then check again.");
    } catch (error) {
      say(box, false, error.message);
    } finally {
      brokerButton.disabled = false;
    }
  });
}

function confirmWith(id) {
  const dialog = document.getElementById(id);
  if (!dialog) return Promise.resolve(true);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

const keyStep = document.querySelector("[data-ssh-key]");
if (keyStep) {
  const shown = keyStep.querySelector("[data-key-shown]");
  const text = keyStep.querySelector("[data-public-key]");
  const box = keyStep.querySelector("[data-key-result]");
  const make = keyStep.querySelector("[data-make-key]");
  const rotate = keyStep.querySelector("[data-rotate-key]");
  const copy = keyStep.querySelector("[data-copy-key]");

  async function generate(button, verb) {
    button.disabled = true;
    try {
      const key = await call("POST", keyStep.dataset.sshKey);
      text.value = key.public_key;
      keyStep.querySelector("[data-key-fingerprint]").textContent = key.fingerprint;
      shown.hidden = false;
      make.hidden = true;
      rotate.hidden = false;
      copy.hidden = false;
      say(box, true, `Key ${verb}: ${key.fingerprint}.`, verb === "rotated" ? "Put the new public key on every unit before the next rollout." : "");
    } catch (error) {
      say(box, false, error.message);
    } finally {
      button.disabled = false;
    }
  }

  make.addEventListener("click", () => generate(make, "generated"));
  rotate.addEventListener("click", async () => {
    if (await confirmWith(rotate.dataset.confirm)) generate(rotate, "rotated");
  });
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text.value);
      announce("Public key copied.");
      copy.textContent = "Copied";
    } catch {
      // no clipboard permission (plain http on a LAN): select it for a manual copy
      text.focus();
      text.select();
      announce("Selected: press Ctrl+C to copy.");
    }
  });
}

const experimentForm = document.querySelector("form[data-first-experiment]");
if (experimentForm) {
  const box = experimentForm.querySelector("[data-experiment-result]");
  const input = experimentForm.querySelector("[data-name-field]");

  experimentForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = experimentForm.querySelector('[type="submit"]');
    clearFormErrors(experimentForm);
    const name = input.value.trim();
    const units = [...experimentForm.querySelectorAll('input[name="units"]:checked')].map((el) => el.value);
    submit.disabled = true;
    try {
      await call("POST", experimentForm.dataset.firstExperiment, { name });
    } catch (error) {
      showFormError(experimentForm, error.message, input);
      submit.disabled = false;
      return;
    }
    try {
      if (units.length) {
        await call("PUT", `${experimentForm.dataset.firstExperiment}/${encodeURIComponent(name)}/units`, { units });
      }
      say(box, true, `Experiment ${name} created${units.length ? ` with ${units.join(", ")}` : ""}.`);
    } catch (error) {
      say(box, false, `Experiment ${name} created, but its units were not assigned: ${error.message}`);
    } finally {
      submit.disabled = false;
    }
  });
}
