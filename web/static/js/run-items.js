// A run's items grouped by state (`GET /api/runs/{id}/items`): prompt, choices,
// response, expected answer, verdict, latency and error, one page at a time.
import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { latency } from "./format.js";

export const GROUP_ORDER = ["incorrect", "faulted", "awaiting", "running", "correct", "pending"];
const PAGE_SIZE = 100;

function verdict(item) {
  if (item.state === "faulted") return item.canceled ? "canceled" : "faulted";
  if (item.correct === true) return "correct";
  if (item.correct === false) return "incorrect";
  return item.state;
}

function choiceList(item) {
  if (!item.choices?.length) return null;
  const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  return h("ol", { type: "A" }, item.choices.map((choice, index) => h("li", {
    class: item.expected && (item.expected === letters[index] || item.expected === choice) ? "expected" : null,
  }, choice)));
}

export function itemView(item) {
  return h("article", { class: "item", dataset: { sequence: item.sequence, state: item.state } },
    h("div", { class: "item-head" },
      h("span", { class: "seq" }, `#${item.sequence}`),
      h("span", { class: "badge", dataset: { status: verdict(item) === "correct" ? "completed" : "failed" } },
        verdict(item)),
      item.answer != null ? h("span", {}, "answer ", h("b", {}, item.answer)) : null,
      item.expected != null ? h("span", {}, "expected ", h("b", {}, item.expected)) : null,
      h("span", {}, `latency ${latency(item.latencyMs)}`),
      item.usage ? h("span", {}, `tokens ${item.usage.promptTokens ?? "?"}→${item.usage.completionTokens ?? "?"}`) : null,
      item.attempts > 1 ? h("span", {}, `attempts ${item.attempts}`) : null),
    item.promptText ? h("div", { class: "prompt" }, item.promptText) : null,
    choiceList(item),
    item.responseText ? h("pre", { class: "response" }, item.responseText) : null,
    item.error ? h("div", { class: "error" }, item.error) : null);
}

/** The grouped items of one run; `refresh()` reloads the first page. */
export class RunItems {
  constructor(runId) {
    this.runId = runId;
    this.node = h("section", { class: "items", "aria-label": "Items" }, h("p", { class: "muted" }, "Loading items…"));
    this.open = new Set(["incorrect", "faulted"]);
  }

  async refresh() {
    const { body } = await api.items(this.runId, { limit: PAGE_SIZE });
    this._render(body);
  }

  _render(page) {
    const groups = new Map(GROUP_ORDER.map((state) => [state, []]));
    for (const [state, items] of Object.entries(page.groups ?? {})) {
      if (!groups.has(state)) groups.set(state, []);
      groups.get(state).push(...items);
    }
    const sections = [];
    for (const [state, items] of groups) {
      const count = page.counts?.[state] ?? items.length;
      if (!count) continue;
      const list = h("div", { class: "group-items" }, items.map(itemView));
      const details = h("details", { class: "group", dataset: { group: state }, open: this.open.has(state) },
        h("summary", {}, state, h("span", { class: "badge", dataset: { state } }, String(count))), list);
      details.addEventListener("toggle", () => {
        if (details.open) this.open.add(state); else this.open.delete(state);
      });
      if (items.length < count && page.nextCursor) list.append(this._moreButton(state, list, page.nextCursor));
      sections.push(details);
    }
    replace(this.node, sections.length ? sections : h("p", { class: "muted" }, "No items."));
  }

  _moreButton(state, list, cursor) {
    const button = h("button", { type: "button" }, "Load more");
    button.addEventListener("click", async () => {
      button.disabled = true;
      const { body } = await api.items(this.runId, { state, limit: PAGE_SIZE, cursor });
      button.remove();
      list.append(...(body.groups?.[state] ?? []).map(itemView));
      if (body.nextCursor) list.append(this._moreButton(state, list, body.nextCursor));
    });
    return button;
  }
}
