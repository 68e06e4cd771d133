// A new API token: created with POST /api/tokens, its secret shown once with a copy button.
import { announce, call } from "./api.js";

const form = document.querySelector("form[data-token-form]");
const shown = document.querySelector("[data-token-shown]");

function showError(error) {
  const summary = form.querySelector(".error-summary");
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.href = "#token-name";
  link.textContent = error.message;
  item.append(link);
  summary.querySelector("ul").replaceChildren(item);
  summary.hidden = false;
  summary.focus();
}

if (form && shown) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = form.elements.namedItem("token-name").value;
    const role = form.elements.namedItem("role").value;
    try {
      const created = await call("POST", form.dataset.url, { name, role });
      form.hidden = true;
      shown.querySelector("[data-token-secret]").textContent = created.token;
      shown.hidden = false;
      announce(`Token ${created.name} created: copy it now, it is shown only once.`);
    } catch (error) {
      showError(error);
    }
  });
  shown.querySelector("[data-copy-token]").addEventListener("click", async (event) => {
    const secret = shown.querySelector("[data-token-secret]").textContent;
    try {
      await navigator.clipboard.writeText(secret);
      event.target.textContent = "Copied";
      announce("Token copied.");
    } catch {
      // no clipboard permission (plain http on a LAN): select it for a manual copy
      const range = document.createRange();
      range.selectNodeContents(shown.querySelector("[data-token-secret]"));
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
      announce("Selected: press Ctrl+C to copy.");
    }
  });
}
