// The profile editor: the YAML is validated as you type (POST /api/profiles/validate, saves nothing) and
// each diagnostic is listed with its line; saving goes through actions.js (the form's data-api).
import { call } from "./api.js";
import { badge } from "./badge.js";

const editor = document.getElementById("yaml");
const list = document.querySelector("[data-diagnostics]");

function render(diagnostics) {
  const items = diagnostics.map((d) => {
    const li = document.createElement("li");
    li.dataset.diagnostic = d.code;
    li.dataset.line = d.line ?? "";
    const where = document.createElement("span");
    where.className = "mono";
    where.textContent = d.line ? `line ${d.line}` : "";
    const path = document.createElement("span");
    path.className = "muted mono";
    path.textContent = d.path;
    li.append(badge(d.severity === "error" ? "failed" : "partial", d.severity === "error" ? "error" : "warning"),
      " ", where, ` ${d.message} `, path);
    return li;
  });
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "muted";
    li.dataset.diagnosticsNone = "";
    li.textContent = "No problems found.";
    items.push(li);
  }
  list.replaceChildren(...items);
}

let timer = null;
let asked = 0;
async function check() {
  const mine = ++asked;
  try {
    const answer = await call("POST", editor.dataset.validateUrl, { yaml: editor.value });
    if (mine === asked) render(answer.diagnostics); // a slower, older answer never overwrites a newer one
  } catch (error) {
    if (mine === asked) render([{ severity: "error", code: "request", message: error.message, path: "", line: null }]);
  }
}

if (editor && list && !editor.readOnly) {
  editor.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });
}
