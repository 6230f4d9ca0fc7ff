// Run-level feedback: thumbs up or down with an optional comment (`POST /api/feedback`).
import { api } from "./api.js";
import { h } from "./dom.js";
import { timestamp } from "./format.js";
import { notify, notifyError } from "./notify.js";

export function feedbackPanel(runId, current) {
  let rating = current?.rating ?? null;
  const up = h("button", { type: "button", title: "Good run" }, "✓ Good");
  const down = h("button", { type: "button", title: "Bad run" }, "✗ Bad");
  const comment = h("textarea", { name: "comment", "aria-label": "Comment", placeholder: "What stood out?" },
    current?.comment ?? "");
  const send = h("button", { type: "submit", class: "primary" }, "Send feedback");
  const note = h("span", { class: "muted" }, current?.at ? `last given ${timestamp(current.at)}` : "");
  const show = () => {
    up.setAttribute("aria-pressed", String(rating === "up"));
    down.setAttribute("aria-pressed", String(rating === "down"));
    send.disabled = rating === null;
  };
  up.addEventListener("click", () => { rating = "up"; show(); });
  down.addEventListener("click", () => { rating = "down"; show(); });
  const form = h("form", { class: "panel feedback" }, h("h2", {}, "Feedback"),
    h("div", { class: "row" }, up, down, note), comment, h("div", { class: "row" }, send));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    send.disabled = true;
    try {
      await api.feedback(runId, rating, comment.value.trim() || undefined);
      note.textContent = "thanks, saved";
      notify("Feedback saved");
    } catch (error) {
      notifyError(error);
    } finally {
      send.disabled = false;
    }
  });
  show();
  return form;
}
