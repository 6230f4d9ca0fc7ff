// The item drawer (`#/runs/<id>/items/<n>`): one item whole — prompt, choices with the
// model's pick and the answer key marked, response, the judge's name, score and
// rationale, the error, and its attempts with the log lines about it.
import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { latency, timestamp } from "./format.js";
import { verdict } from "./item-view.js";

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Whether `value` (a letter or the choice's text) names choice `index`. */
export function names(value, choice, index) {
  return value !== null && value !== undefined && (value === LETTERS[index] || value === choice);
}

function section(title, ...body) {
  return h("section", {}, h("h3", {}, title), ...body);
}

function choices(item) {
  if (!item.choices?.length) return null;
  return section("Choices", h("ol", { type: "A", class: "choices" }, item.choices.map((choice, index) => {
    const picked = names(item.answer, choice, index);
    const key = names(item.expected, choice, index);
    return h("li", { class: key ? "expected" : null, dataset: { picked: picked ? "true" : null } }, choice,
      key ? h("span", { class: "tag key" }, "key") : null,
      picked ? h("span", { class: "tag pick" }, "model's pick") : null);
  })));
}

function judge(item) {
  if (item.correct === null || item.correct === undefined) return null;
  return section("Judge", h("dl", { class: "facts", id: "drawer-judge" },
    h("dt", {}, "Verdict"), h("dd", {}, item.correct ? "correct" : "incorrect"),
    h("dt", {}, "Judge"), h("dd", {}, item.judge ?? "–"),
    h("dt", {}, "Score"), h("dd", {}, item.score ?? "–"),
    h("dt", {}, "Expected"), h("dd", {}, item.expected ?? "–")),
  item.rationale ? h("p", { class: "rationale", id: "drawer-rationale" }, item.rationale) : null);
}

function attempts(item, logs) {
  return section("Attempts", h("ul", { class: "timeline" },
    h("li", {}, `${item.attempts || 0} attempt${item.attempts === 1 ? "" : "s"}`),
    item.startedAt ? h("li", {}, `last started ${timestamp(item.startedAt)}`) : null,
    item.latencyMs !== null && item.latencyMs !== undefined ? h("li", {}, `answered in ${latency(item.latencyMs)}`) : null,
    item.finishedAt ? h("li", {}, `finished ${timestamp(item.finishedAt)}`) : null,
    logs.map((entry) => h("li", { dataset: { level: entry.level } }, `${timestamp(entry.ts)} ${entry.level}: ${entry.message}`))));
}

export class ItemDrawer {
  /** `onClose()`: the user closed the drawer (the page goes back to the run's URL). */
  constructor(runId, { onClose }) {
    this.runId = runId;
    this.sequence = null;
    this.at = null; // a cursor while the page replays the run's history
    this.title = h("h2", { id: "drawer-title", tabindex: "-1" }, "Item");
    this.content = h("div", { class: "drawer-body" });
    const close = h("button", { type: "button", class: "ghost", "aria-label": "Close item", onclick: onClose }, "×");
    this.node = h("aside", { class: "drawer", id: "item-drawer", hidden: true, "aria-labelledby": "drawer-title" },
      h("div", { class: "drawer-head" }, this.title, h("span", { class: "spacer" }), close), this.content);
    this.node.addEventListener("keydown", (event) => { if (event.key === "Escape") onClose(); });
  }

  async open(sequence) {
    const at = this.at;
    this.sequence = sequence;
    this.node.hidden = false;
    this.title.textContent = `Item #${sequence}`;
    replace(this.content, h("p", { class: "muted" }, "Loading…"));
    this.title.focus();
    try {
      const { body } = await api.item(this.runId, sequence, at);
      if (this.sequence === sequence) this.show(body);
    } catch (error) {
      if (this.sequence === sequence) replace(this.content, h("p", { class: "error" }, error.message));
    }
  }

  /** Refresh the open item (the run moved on). */
  async refresh() {
    if (this.sequence === null) return;
    const { body } = await api.item(this.runId, this.sequence, this.at);
    this.show(body);
  }

  show({ item, logs, toolCalls = [] }) {
    replace(this.title, `Item #${item.sequence} `, h("span", { class: "badge", dataset: { state: item.state } }, verdict(item)));
    replace(this.content,
      section("Prompt", h("pre", { class: "prompt" }, item.promptText ?? "")),
      choices(item),
      section("Response", item.responseText ? h("pre", { class: "response" }, item.responseText)
        : h("p", { class: "muted" }, item.activity?.preview ? `streaming: ${item.activity.preview}` : "no response yet"),
      item.answer ? h("p", {}, "Extracted answer: ", h("b", {}, item.answer)) : null),
      judge(item),
      item.error ? section("Error", h("p", { class: "error", id: "drawer-error" }, item.error)) : null,
      attempts(item, logs),
      section("MCP tool calls of this run", toolCalls.length
        ? h("ul", { class: "timeline", id: "drawer-tools" }, toolCalls.map((entry) =>
          h("li", { dataset: { level: entry.level } }, `${timestamp(entry.ts)} ${entry.message}`)))
        : h("p", { class: "muted" }, "none recorded")));
  }

  close() {
    this.sequence = null;
    this.node.hidden = true;
  }
}
