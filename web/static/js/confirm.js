// A modal question before a command that cannot be undone. The dialog names exactly
// what it acts on, so a card that moved under the pointer cannot be canceled by mistake.
import { h } from "./dom.js";

/**
 * Ask `question`; resolves true when the user picks `yes`, false on `no` or Escape.
 * Focus starts on the safe answer and returns to where it was.
 */
export function confirmAction({ title, question, yes, no = "Keep it" }) {
  const returnTo = document.activeElement;
  return new Promise((resolve) => {
    const keep = h("button", { type: "button", value: "no" }, no);
    const go = h("button", { type: "button", class: "danger-solid", value: "yes" }, yes);
    const heading = h("h2", { id: "confirm-title" }, title);
    const dialog = h("dialog", { class: "confirm", "aria-labelledby": "confirm-title" },
      heading, h("p", {}, question), h("div", { class: "row" }, h("span", { class: "spacer" }), keep, go));
    const finish = (answer) => {
      dialog.close();
      dialog.remove();
      if (returnTo && returnTo.isConnected) returnTo.focus({ preventScroll: true });
      document.dispatchEvent(new Event("confirmclose"));
      resolve(answer);
    };
    keep.addEventListener("click", () => finish(false));
    go.addEventListener("click", () => finish(true));
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); finish(false); });
    document.body.append(dialog);
    dialog.showModal();
    keep.focus();
  });
}

export function dialogOpen() {
  return Boolean(document.querySelector("dialog[open]"));
}
