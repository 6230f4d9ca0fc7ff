// Picking runs to compare: only runs on one dataset can be compared, so once one run
// is ticked the boxes of runs on other datasets are disabled. The selection is kept
// in memory across pages of a table (and visits to it), with each run's dataset.
import { h } from "./dom.js";

export class RunSelection {
  constructor() {
    this.chosen = new Map();
    this.boxes = new Map();
    this.onChange = () => {};
  }

  get dataset() {
    return this.chosen.size ? this.chosen.values().next().value : null;
  }

  ids() {
    return [...this.chosen.keys()];
  }

  /** A checkbox for `run`, registered until the next `forgetBoxes()`. */
  checkbox(run, label) {
    const box = h("input", { type: "checkbox", "aria-label": label, checked: this.chosen.has(run.id) });
    box.addEventListener("change", () => {
      if (box.checked) this.chosen.set(run.id, run.datasetName); else this.chosen.delete(run.id);
      this._sync();
    });
    this.boxes.set(box, run);
    this._sync();
    return box;
  }

  /** The table is about to show other rows: their boxes replace these. */
  forgetBoxes() {
    this.boxes.clear();
  }

  clear() {
    this.chosen.clear();
    for (const box of this.boxes.keys()) box.checked = false;
    this._sync();
  }

  _sync() {
    const dataset = this.dataset;
    for (const [box, run] of this.boxes) {
      const other = dataset !== null && run.datasetName !== dataset;
      box.disabled = other;
      box.title = other ? `Only runs on ${dataset} can be compared with the selection` : "";
    }
    this.onChange(this);
  }
}
