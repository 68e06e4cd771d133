// End, Delete and Restore an experiment (/experiments and /experiments/<exp>), and the Edit dialog's opener.
// End is one server operation (stop the jobs, then unassign): its progress is followed live, then the page
// reloads. Delete asks what happens to the data and sends the choice (`?data=keep|delete`). Restore brings an
// archived one back (nothing is lost either way, so no dialog) and reloads the page showing it live.
import { announce, call } from "./api.js";
import { follow, summary } from "./follow_operation.js";

function ask(dialog, name) {
  for (const el of dialog.querySelectorAll("[data-name]")) el.textContent = name;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
  });
}

// where a button's outcome shows: its table cell on the list, the page head on an experiment's page
function sayer(button) {
  const box = button.closest("td, .page-head")?.querySelector("[data-end-progress]");
  return (text) => {
    if (box) box.textContent = text;
    announce(text);
  };
}

async function end(button) {
  if (!(await ask(document.getElementById("end-experiment"), button.dataset.name))) return;
  const say = sayer(button);
  button.disabled = true;
  try {
    say("Stopping every job of the experiment…");
    const answer = await call("POST", button.dataset.end);
    const op = await follow(answer.operation, (o) => say(`End ${summary(o)}`));
    if (op.status !== "succeeded") {
      say(`End ${summary(op)}. Units whose jobs did not stop stay assigned: End again to retry.`);
      return;
    }
    window.location.reload();
  } catch (error) {
    say(`End failed: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

async function remove(button) {
  const dialog = document.getElementById("delete-experiment");
  const keep = dialog.querySelector("[data-keep-choice]");
  // an archived experiment already kept its data: the only step left is deleting it
  keep.hidden = button.hasAttribute("data-archived");
  dialog.querySelector(`[value="${keep.hidden ? "delete" : "keep"}"]`).checked = true;
  if (!(await ask(dialog, button.dataset.name))) return;
  const choice = dialog.querySelector('input[name="data"]:checked').value;
  button.disabled = true;
  try {
    await call("DELETE", `${button.dataset.delete}?data=${choice}`);
    sayer(button)(`${button.dataset.name}: ${choice === "keep" ? "archived" : "deleted with its data"}.`);
    if (document.querySelector("[data-workspace]")) window.location.assign("/experiments");
    else window.location.reload();
  } catch (error) {
    sayer(button)(`Delete failed: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

async function restore(button) {
  const say = sayer(button);
  button.disabled = true;
  try {
    await call("POST", button.dataset.restore);
    say(`${button.dataset.name}: restored.`);
    window.location.reload();
  } catch (error) {
    say(`Restore failed: ${error.message}`);
    button.disabled = false;
  }
}

document.addEventListener("click", (event) => {
  const selector = "[data-end], [data-delete], [data-restore], [data-open-dialog], [data-close]";
  const target = event.target.closest(selector);
  if (!target) return;
  if (target.dataset.end) end(target);
  else if (target.dataset.delete) remove(target);
  else if (target.dataset.restore) restore(target);
  else if (target.dataset.openDialog) document.getElementById(target.dataset.openDialog)?.showModal();
  else target.closest("dialog")?.close();
});
