// The fresh-password prompt: a dangerous action answered `403 reauth_required` asks for the password in the
// base layout's <dialog id="reauth-dialog">, POSTs /api/reauth, and the caller retries once (see api.js).
// Resolves true once the password was accepted, false when the person cancelled.

function messageBox(dialog) {
  return dialog.querySelector("[data-reauth-error]");
}

export function askPassword(post) {
  const dialog = document.getElementById("reauth-dialog");
  if (!dialog) return Promise.resolve(false);
  const form = dialog.querySelector("form");
  const input = dialog.querySelector('input[name="password"]');
  const error = messageBox(dialog);
  input.value = "";
  error.hidden = true;
  input.removeAttribute("aria-invalid");
  return new Promise((resolve) => {
    const onSubmit = async (event) => {
      event.preventDefault();
      if (event.submitter?.value === "cancel") return dialog.close("cancel");
      const submit = form.querySelector('button[value="confirm"]');
      submit.disabled = true;
      try {
        await post(input.value);
        dialog.close("confirm");
      } catch (failure) {
        error.hidden = false;
        error.lastChild.textContent = ` ${failure.message}`;
        input.setAttribute("aria-invalid", "true");
        input.select();
      } finally {
        submit.disabled = false;
      }
    };
    form.addEventListener("submit", onSubmit);
    dialog.addEventListener(
      "close",
      () => {
        form.removeEventListener("submit", onSubmit);
        resolve(dialog.returnValue === "confirm");
      },
      { once: true },
    );
    dialog.returnValue = "";
    dialog.showModal();
    input.focus();
  });
}
