// One item of a run page, built once and then patched field by field as the item
// changes state: its node stays, so focus and a text selection inside it survive.
import { h, replace, setAttr, setText } from "./dom.js";
import { latency } from "./format.js";

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** What the item's badge says: its state, or how a finished item ended. */
export function verdict(item) {
  if (item.state === "faulted") return item.canceled ? "canceled" : "faulted";
  if (item.state === "running") return "streaming";
  return item.state;
}

function tokens(usage) {
  return usage ? `tokens ${usage.promptTokens ?? "?"}→${usage.completionTokens ?? "?"}` : null;
}

/** Show `text` in `node`, or hide the node when there is none. */
function show(node, text) {
  node.hidden = text === null || text === undefined || text === "";
  setText(node, node.hidden ? "" : text);
}

export class ItemView {
  constructor(sequence) {
    this.sequence = sequence;
    this.item = null;
    this.badge = h("span", { class: "badge" });
    this.answer = h("b");
    this.answerLabel = h("span", {}, "answer ", this.answer);
    this.expected = h("b");
    this.expectedLabel = h("span", {}, "expected ", this.expected);
    this.latency = h("span");
    this.tokens = h("span");
    this.attempts = h("span");
    this.prompt = h("div", { class: "prompt" });
    this.choices = h("ol", { type: "A" });
    this.choicesKey = "";
    this.preview = h("pre", { class: "response streaming", "aria-live": "off" });
    this.response = h("pre", { class: "response" });
    this.error = h("div", { class: "error" });
    this.node = h("article", { class: "item", dataset: { sequence } },
      h("div", { class: "item-head" }, h("span", { class: "seq" }, `#${sequence}`), this.badge,
        this.answerLabel, this.expectedLabel, this.latency, this.tokens, this.attempts),
      this.prompt, this.choices, this.preview, this.response, this.error);
  }

  update(item) {
    this.item = item;
    setAttr(this.node, "data-state", item.state);
    setAttr(this.badge, "data-state", item.state);
    setText(this.badge, verdict(item));
    this.answerLabel.hidden = item.answer == null;
    setText(this.answer, item.answer ?? "");
    this.expectedLabel.hidden = item.expected == null;
    setText(this.expected, item.expected ?? "");
    show(this.latency, item.latencyMs == null ? null : `latency ${latency(item.latencyMs)}`);
    show(this.tokens, tokens(item.usage));
    show(this.attempts, item.attempts > 1 ? `attempts ${item.attempts}` : null);
    show(this.prompt, item.promptText);
    this._updateChoices(item);
    // While an item streams, its partial answer is all there is to read.
    show(this.preview, item.state === "running" && !item.responseText ? item.activity?.preview : null);
    show(this.response, item.responseText);
    show(this.error, item.error);
    return this;
  }

  _updateChoices(item) {
    const key = JSON.stringify([item.choices ?? [], item.expected ?? null]);
    if (key === this.choicesKey) return;
    this.choicesKey = key;
    this.choices.hidden = !item.choices?.length;
    replace(this.choices, (item.choices ?? []).map((choice, index) => h("li", {
      class: item.expected && (item.expected === LETTERS[index] || item.expected === choice) ? "expected" : null,
    }, choice)));
  }
}
