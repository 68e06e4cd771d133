// /config: "saved, not synced" — the file list's marks and the line under the editor's title — asked again
// when the sync this page was opened on ends. The leader's answer (GET /api/config/files, from the sha256
// each successful step confirmed), never a guess from the steps shown; the same words as config.html.
import { call } from "./api.js";
import { badge } from "./badge.js";

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

function syncBadge(unsynced) {
  if (!unsynced.length) return badge("synced");
  return badge("unsynced", `not synced to ${plural(unsynced.length, "unit")}`);
}

function names(list) {
  const shown = list.slice(0, 10).join(", ");
  return list.length > 10 ? `${shown} and ${list.length - 10} more` : shown;
}

function detail(line, unsynced) {
  if (unsynced.length) {
    return `${names(unsynced)} ${unsynced.length === 1 ? "has" : "have"} not received this version from a sync yet.`;
  }
  if (line.dataset.only) return `${line.dataset.only} has this version.`;
  return `All ${line.dataset.reach} units it goes to have this version.`;
}

export async function refreshSynced() {
  const nav = document.querySelector("[data-files-url]");
  if (!nav) return;
  const { files } = await call("GET", nav.dataset.filesUrl);
  const unsynced = new Map(files.map((f) => [f.name, f.unsynced_units || []]));
  for (const mark of document.querySelectorAll("[data-file-synced]")) {
    const units = unsynced.get(mark.dataset.fileSynced);
    if (units) mark.replaceChildren(syncBadge(units));
  }
  const line = document.querySelector("[data-config-synced]");
  const units = line && unsynced.get(line.dataset.configSynced);
  if (!units) return;
  line.querySelector("[data-synced-badge]").replaceChildren(syncBadge(units));
  line.querySelector("[data-synced-detail]").textContent = detail(line, units);
  line.querySelector("[data-sync-now]")?.toggleAttribute("hidden", !units.length);
}
