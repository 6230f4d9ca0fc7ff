// The page during an outage of the live stream: a banner says the numbers are stale,
// the live numbers are dimmed (CSS keys on <body data-connection>), and every command
// button (`data-command`) is disabled, since its answer could not be shown.
import { h } from "./dom.js";

const OUTAGE_STATES = new Set(["reconnecting", "log offline"]);
let offline = false;

export function isOffline() {
  return offline;
}

/** Disable or re-enable one command button to match the connection. */
export function guardCommand(button) {
  button.dataset.command = "";
  if (offline) button.disabled = true;
  return button;
}

export function showConnectionState(state) {
  document.body.dataset.connection = state;
  const was = offline;
  offline = OUTAGE_STATES.has(state);
  let banner = document.getElementById("outage");
  if (offline && !banner) {
    banner = h("div", { id: "outage", class: "outage", role: "alert" },
      "Live updates are interrupted: the numbers below may be stale, and commands are paused ",
      "until the server answers again.");
    document.querySelector(".topbar").after(banner);
  }
  if (banner) banner.hidden = !offline;
  if (was !== offline) {
    for (const button of document.querySelectorAll("[data-command]")) {
      if (offline) button.disabled = true;
      else if (!button.dataset.busy) button.disabled = false;
    }
  }
}
