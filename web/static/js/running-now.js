// The items streaming right now, at the top of a live run's page: each with its
// prompt and the text arriving, patched in place from the live stream and dropped when
// it ends (the table below then has it in its new state).
import { api } from "./api.js";
import { h } from "./dom.js";
import { ItemView } from "./item-view.js";
import { applyTextDelta } from "./text-delta.js";

const SHOWN = 12;

export class RunningNow {
  constructor(runId) {
    this.runId = runId;
    this.views = new Map();
    this.list = h("div", { class: "running-list" });
    this.node = h("section", { class: "panel running-now", id: "running-now", hidden: true, "aria-labelledby": "running-title" },
      h("h2", { id: "running-title" }, "Running now"), this.list);
  }

  async load() {
    const { body } = await api.items(this.runId, { state: "running", limit: SHOWN });
    for (const item of body.groups?.running ?? []) this.put(item);
  }

  /** An item's new state, or a text delta (it has an `offset`) for one shown here. */
  take(update) {
    if (update.offset === undefined) {
      this.put(update);
      return;
    }
    const applied = applyTextDelta(this.views.get(update.sequence)?.item, update);
    if (applied) this.put(applied);
  }

  put(item) {
    let view = this.views.get(item.sequence);
    if (item.state !== "running") {
      if (view) { view.node.remove(); this.views.delete(item.sequence); }
    } else {
      if (!view) {
        if (this.views.size >= SHOWN) return;
        view = new ItemView(item.sequence);
        this.views.set(item.sequence, view);
        const after = [...this.list.children].find((node) => Number(node.dataset.sequence) > item.sequence) ?? null;
        this.list.insertBefore(view.node, after);
      }
      view.update(item);
    }
    this.node.hidden = this.views.size === 0;
  }
}
