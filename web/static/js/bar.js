// Bars: the stacked progress bar of a run and the small accuracy bar of a table row.
import { h, setAttr, setText } from "./dom.js";
import { accuracyOf, percent } from "./format.js";

export const BAR_STATES = ["correct", "incorrect", "awaiting", "faulted", "pending"];

/**
 * A stacked bar plus its numbers, updated in place: widths and texts change, nodes stay.
 * `node` holds the bar and per-state counts; `summary` ("25 / 80 judged (76.0%)") is
 * placed by the caller.
 */
export class ProgressBar {
  constructor() {
    this.segments = {};
    this.numbers = {};
    this.bar = h("div", { class: "bar", role: "img" });
    this.legend = h("div", { class: "counts" });
    for (const state of BAR_STATES) {
      this.segments[state] = h("span", { class: `seg-${state}`, style: "width: 0%" });
      this.bar.append(this.segments[state]);
      this.numbers[state] = h("span", { dataset: { count: state } }, "0");
      this.legend.append(h("span", { class: "c", dataset: { state } }, this.numbers[state], ` ${state}`));
    }
    this.done = h("span", { dataset: { count: "completed" } }, "0");
    this.total = h("span", { dataset: { count: "total" } }, "0");
    this.accuracy = h("span", { class: "muted" });
    this.summary = h("span", { class: "judged" }, this.done, " / ", this.total, " judged ", this.accuracy);
    this.node = h("div", { class: "progress" }, this.bar, this.legend);
  }

  update(progress) {
    const p = progress ?? { completed: 0, total: 0, correct: 0, incorrect: 0, awaiting: 0, faulted: 0, pending: 0 };
    for (const state of BAR_STATES) {
      const width = p.total ? `${(p[state] / p.total) * 100}%` : "0%";
      if (this.segments[state].style.width !== width) this.segments[state].style.width = width;
      setText(this.numbers[state], p[state]);
    }
    setText(this.done, p.completed);
    setText(this.total, p.total);
    setText(this.accuracy, p.completed ? `(${percent(accuracyOf(p))})` : "");
    setAttr(this.bar, "aria-label",
      `${p.completed} of ${p.total} judged: ${p.correct} correct, ${p.incorrect} incorrect, `
      + `${p.awaiting} awaiting, ${p.faulted} faulted, ${p.pending} pending`);
  }
}

/** A small bar for an accuracy in 0..1, with the percentage beside it. */
export function accuracyBar(fraction) {
  const known = fraction !== null && fraction !== undefined;
  const right = known ? fraction * 100 : 0;
  const wrong = known ? 100 - right : 0;
  return h("span", { class: "acc-cell" },
    h("span", { class: "bar small", role: "img", "aria-label": `accuracy ${percent(fraction)}` },
      h("span", { class: "seg-correct", style: `width: ${right}%` }),
      h("span", { class: "seg-incorrect", style: `width: ${wrong}%` })),
    h("span", { class: "acc-value" }, percent(fraction)));
}
