// An editor's list of problems (/config's INI, a profile's YAML): an item per diagnostic carrying its code
// and line (data-diagnostic, data-line: what jumps to the line and what tests read), or "No problems found."
// `describe(d)` gives an item's contents, which differ per editor.
export function renderDiagnostics(list, diagnostics, describe) {
  const items = diagnostics.map((d) => {
    const li = document.createElement("li");
    li.dataset.diagnostic = d.code;
    li.dataset.line = d.line ?? "";
    li.append(...describe(d));
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
