// Replaying a run's history on its page: a scrubber over the run's own events
// (`/api/runs/{id}/history`), stepping one by one; the page then shows the run, its
// items and its log as they were just after the chosen event (`?at=<cursor>`).
import { api } from "./api.js";
import { h, setText } from "./dom.js";
import { clockTime } from "./format.js";

const SCRUB_DELAY_MS = 150;

function describe(event) {
  const what = event.sequence ? `${event.type} #${event.sequence}` : event.type;
  return event.ts ? `${what} · ${clockTime(event.ts)}` : what;
}

export class RunReplay {
  /** `show(cursor | null)`: show the run at that cursor, or live again with null. */
  constructor(runId, { show }) {
    this.runId = runId;
    this.show = show;
    this.count = 0;
    this.slider = h("input", { type: "range", min: 0, max: 0, value: 0, step: 1, id: "replay-slider",
      "aria-label": "Event of the run's history", disabled: true });
    this.back = h("button", { type: "button", "aria-label": "Previous event", onclick: () => this.step(-1) }, "◀");
    this.forward = h("button", { type: "button", "aria-label": "Next event", onclick: () => this.step(1) }, "▶");
    this.live = h("button", { type: "button", onclick: () => this.stop() }, "Back to live");
    this.label = h("span", { id: "replay-label", role: "status" }, "");
    this.start = h("button", { type: "button", id: "replay-start", onclick: () => this.begin() }, "Replay history");
    this.controls = h("div", { class: "row replay-controls", hidden: true }, this.back, this.slider, this.forward,
      this.label, h("span", { class: "spacer" }), this.live);
    this.node = h("section", { class: "panel replay", id: "replay", "aria-label": "Replay" },
      h("div", { class: "row" }, h("h2", {}, "Replay"), this.start,
        h("span", { class: "muted" }, "the run as it was after any of its events")), this.controls);
    let timer = 0;
    this.slider.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.go(Number(this.slider.value)), SCRUB_DELAY_MS);
    });
  }

  async begin() {
    const { body } = await api.history(this.runId, 0);
    this.count = body.count;
    this.slider.max = String(this.count - 1);
    this.slider.disabled = false;
    this.controls.hidden = false;
    this.start.hidden = true;
    await this.go(this.count - 1);
    this.slider.focus();
  }

  step(delta) {
    const next = Math.min(this.count - 1, Math.max(0, Number(this.slider.value) + delta));
    return this.go(next);
  }

  async go(index) {
    this.slider.value = String(index);
    const { body } = await api.history(this.runId, index);
    if (Number(this.slider.value) !== index) return;
    this.count = body.count;
    this.slider.max = String(this.count - 1);
    this.back.disabled = index === 0;
    this.forward.disabled = index >= this.count - 1;
    setText(this.label, `event ${index + 1} of ${this.count}: ${describe(body.event)}`);
    this.node.dataset.position = body.position;
    await this.show(body.position);
    this.node.dataset.shown = body.position;
  }

  stop() {
    this.controls.hidden = true;
    this.start.hidden = false;
    delete this.node.dataset.position;
    delete this.node.dataset.shown;
    this.show(null);
    this.start.focus();
  }
}
