// Short messages in the corner: command results and API errors (shown as the server
// worded them, since its messages name the exact field or state at fault).
import { h } from "./dom.js";

const SHOW_MS = 6000;

export function notify(message, kind = "info") {
  const box = document.getElementById("toasts");
  const toast = h("div", { class: "toast", dataset: { kind } }, message);
  box.append(toast);
  setTimeout(() => toast.remove(), kind === "error" ? SHOW_MS * 2 : SHOW_MS);
}

export function notifyError(error) {
  notify(error.message || String(error), "error");
}
