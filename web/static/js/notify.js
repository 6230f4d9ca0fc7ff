// Short messages in the corner: command results and API errors (shown as the server
// worded them, since its messages name the exact field or state at fault). An error is
// an alert (read out at once) that stays until dismissed or for twice as long as a note;
// every toast has a close button, so none has to be waited out.
import { h } from "./dom.js";

const SHOW_MS = 6000;

export function notify(message, kind = "info") {
  const box = document.getElementById("toasts");
  const close = h("button", { type: "button", class: "ghost toast-close", "aria-label": "Dismiss" }, "×");
  const toast = h("div", { class: "toast", role: kind === "error" ? "alert" : "status", dataset: { kind } },
    h("span", {}, message), close);
  const timer = setTimeout(() => toast.remove(), kind === "error" ? SHOW_MS * 2 : SHOW_MS);
  close.addEventListener("click", () => { clearTimeout(timer); toast.remove(); });
  box.append(toast);
  return toast;
}

export function notifyError(error) {
  return notify(error.message || String(error), "error");
}
