// The profile editor: the YAML is validated as you type (POST /api/profiles/validate, saves nothing); each
// diagnostic is listed with a link to its line and marked in the gutter (the /config editor's, ini_highlight.js,
// with YAML's keys and comments); saving goes through actions.js (the form's data-api).
import { call } from "./api.js";
import { badge } from "./badge.js";
import { attach, span } from "./ini_highlight.js";

const COMMENT = /^\s*#/;
const KEY = /^(\s*(?:-\s+)?)([A-Za-z_$][\w$.-]*)(\s*:)(\s.*|)$/;

// One YAML line as spans: a comment, or a `key:` (list item or not) and its value
function yamlLine(line) {
  if (COMMENT.test(line)) return [span("ini-comment", line)];
  const key = KEY.exec(line);
  if (!key) return [span("", line)];
  return [span("", key[1]), span("ini-key", key[2]), span("ini-delim", key[3]), span("ini-value", key[4])];
}

const textarea = document.getElementById("yaml");
const list = document.querySelector("[data-diagnostics]");
const editor = textarea && list ? attach(textarea, yamlLine) : null;

function render(diagnostics) {
  editor.show(list, diagnostics, {
    mark: (d) => badge(d.severity),
    fallback: "profile",
    after: (d) => [" ", span("muted mono", d.path)],
  });
}

let timer = null;
let asked = 0;
async function check() {
  const mine = ++asked;
  try {
    const answer = await call("POST", textarea.dataset.validateUrl, { yaml: textarea.value });
    if (mine === asked) render(answer.diagnostics); // a slower, older answer never overwrites a newer one
  } catch (error) {
    if (mine === asked) render([{ severity: "error", code: "request", message: error.message, path: "", line: null }]);
  }
}

if (editor) {
  editor.listen(list);
  if (!textarea.readOnly) {
    textarea.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(check, 300);
    });
  }
}
