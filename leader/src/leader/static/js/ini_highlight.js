// Highlighting for a <textarea>: a <pre> behind it draws the same text in colour, and a gutter beside it
// numbers the lines and marks the ones with problems; the page's list of problems links to their lines.
// INI's lines by default (/config); a page may pass its own line function (/profiles: YAML's keys and
// comments). Hand-made rather than a vendored editor: INI has four kinds of line, and this is ~130 lines
// where an editor library is hundreds of KB and a bundler (see the commit). The textarea stays the real
// input (native editing, undo, accessibility); all text is set with textContent, never markup.
const COMMENT = /^\s*[#;]/;
const SECTION = /^(\s*)(\[.+\])(.*)$/;
const OPTION = /^(\s*)([^=:\s][^=:]*?)(\s*[=:]\s*)(.*)$/;

export function span(cls, text) {
  const s = document.createElement("span");
  if (cls) s.className = cls;
  s.textContent = text;
  return s;
}

// One INI line as spans; an indented line after a key continues that key's value (configparser's rule)
export function iniLine(line, state) {
  if (!line.trim()) return [span("", line)];
  if (COMMENT.test(line)) return [span("ini-comment", line)];
  const indent = line.length - line.trimStart().length;
  if (state.keyIndent !== null && indent > state.keyIndent) return [span("ini-value", line)];
  const section = SECTION.exec(line);
  if (section) {
    state.keyIndent = null;
    return [span("", section[1]), span("ini-section", section[2]), span("", section[3])];
  }
  const option = OPTION.exec(line);
  if (option) {
    state.keyIndent = indent;
    return [span("", option[1]), span("ini-key", option[2]), span("ini-delim", option[3]), span("ini-value", option[4])];
  }
  state.keyIndent = null;
  return [span("", line)];
}

export function attach(textarea, lineNodes = iniLine) {
  const root = textarea.closest("[data-ini-editor]");
  const pre = root.querySelector("[data-ini-highlight]");
  // the numbers sit in an inner box moved with the text: the gutter itself never sets the editor's height
  const gutter = document.createElement("div");
  gutter.className = "ini-gutter-lines";
  root.querySelector("[data-ini-gutter]").append(gutter);
  let problems = new Map(); // line number -> message

  function render() {
    const lines = textarea.value.split("\n");
    const state = { keyIndent: null }; // a line function's memory of the lines before
    const rows = [];
    const numbers = [];
    lines.forEach((line, i) => {
      const n = i + 1;
      const row = span(problems.has(n) ? "ini-line ini-line-error" : "ini-line", "");
      row.append(...lineNodes(line, state)); // a block per line (CSS): an error line is marked full width
      rows.push(row);
      const num = span(problems.has(n) ? "ini-num ini-num-error" : "ini-num", String(n));
      if (problems.has(n)) num.title = problems.get(n);
      numbers.push(num);
    });
    pre.replaceChildren(...rows);
    gutter.replaceChildren(...numbers);
    follow();
  }

  function follow() {
    pre.scrollTop = textarea.scrollTop;
    pre.scrollLeft = textarea.scrollLeft;
    gutter.style.transform = `translateY(${-textarea.scrollTop}px)`;
  }

  textarea.addEventListener("input", render);
  textarea.addEventListener("scroll", follow);
  root.classList.add("ini-enhanced"); // only now is the textarea's own text made transparent (CSS)
  render();

  const api = {
    mark(diagnostics) {
      problems = new Map(diagnostics.filter((d) => d.line).map((d) => [d.line, d.message]));
      render();
    },
    // the page's list of problems, drawn again: each with its mark (a badge), a `line N` link and its
    // message (then `after(d)`), or "No problems found."; and their lines marked in the gutter
    show(list, diagnostics, { mark, fallback, after = () => [] }) {
      const items = diagnostics.map((d) => {
        const li = document.createElement("li");
        li.dataset.diagnostic = d.code;
        li.dataset.line = d.line ?? "";
        const link = document.createElement("a");
        link.className = "mono";
        link.href = `#${textarea.id}`;
        link.dataset.gotoLine = d.line ?? "";
        link.textContent = d.line ? `line ${d.line}` : fallback;
        li.append(mark(d), " ", link, ` ${d.message}`, ...after(d));
        return li;
      });
      if (!items.length) {
        const none = document.createElement("li");
        none.className = "muted";
        none.dataset.diagnosticsNone = "";
        none.textContent = "No problems found.";
        items.push(none);
      }
      list.replaceChildren(...items);
      api.mark(diagnostics);
    },
    // the page's list of problems: those it was rendered with are marked, its `line N` links move the caret
    listen(list) {
      const shown = [...list.querySelectorAll("[data-line]")].map((li) => ({ line: Number(li.dataset.line), message: li.textContent.trim() }));
      api.mark(shown.filter((d) => d.line));
      list.addEventListener("click", (event) => {
        const link = event.target.closest("[data-goto-line]");
        if (!link || !link.dataset.gotoLine) return;
        event.preventDefault();
        api.goto(Number(link.dataset.gotoLine));
      });
    },
    goto(line) {
      const before = textarea.value.split("\n").slice(0, line - 1).join("\n");
      const start = line > 1 ? before.length + 1 : 0;
      const end = textarea.value.indexOf("\n", start);
      textarea.focus();
      textarea.setSelectionRange(start, end === -1 ? textarea.value.length : end);
    },
  };
  return api;
}
