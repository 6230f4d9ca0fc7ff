// A run's items grouped by state (`GET /api/runs/{id}/items`), keyed by sequence.
// The first page is fetched once; after that each item is patched in place from the
// live stream (`put`) and moved between groups when its state changes, and the items
// a user paged in with "Load more" stay.
import { api } from "./api.js";
import { h, replace, setText } from "./dom.js";
import { ItemView } from "./item-view.js";

export const GROUP_ORDER = ["incorrect", "faulted", "awaiting", "running", "correct", "pending"];
const PAGE_SIZE = 100;

/** One state's items in sequence order, with its count and its own "Load more". */
class ItemGroup {
  constructor(state, { open, onMore }) {
    this.state = state;
    this.count = 0;
    this.cursor = null;
    this.list = h("div", { class: "group-items" });
    this.countBadge = h("span", { class: "badge", dataset: { state } }, "0");
    this.more = h("button", { type: "button", hidden: true, onclick: () => onMore(this) }, "Load more");
    this.node = h("details", { class: "group", dataset: { group: state }, open, hidden: true },
      h("summary", {}, state, this.countBadge), this.list, this.more);
  }

  /** Insert `view` in sequence order; a node already in place is left alone. */
  add(view) {
    const after = [...this.list.children].find((node) => Number(node.dataset.sequence) > view.sequence) ?? null;
    if (view.node.parentNode !== this.list || view.node.nextElementSibling !== after) {
      this.list.insertBefore(view.node, after);
    }
  }

  setCount(count) {
    this.count = count;
    setText(this.countBadge, count);
    this.node.hidden = count === 0 && this.list.children.length === 0;
    this.more.hidden = !this.cursor || this.list.children.length >= count;
  }
}

export class RunItems {
  constructor(runId) {
    this.runId = runId;
    this.views = new Map();
    this.open = new Set(["incorrect", "faulted"]);
    this.groups = new Map(GROUP_ORDER.map((state) => [state, this._group(state)]));
    this.status = h("p", { class: "muted" }, "Loading items…");
    this.node = h("section", { class: "items", "aria-label": "Items" }, this.status,
      [...this.groups.values()].map((group) => group.node));
    this.loaded = false;
    this.early = [];
  }

  /** Fetch the first page; items the stream delivered meanwhile are newer, so they win. */
  async load() {
    const { body } = await api.items(this.runId, { limit: PAGE_SIZE });
    for (const items of Object.values(body.groups ?? {})) for (const item of items) this._put(item);
    for (const group of this.groups.values()) group.cursor = body.nextCursor;
    this.loaded = true;
    for (const item of this.early.splice(0)) this._put(item);
    this.setCounts(body.counts ?? {});
  }

  /** The item's whole current state, from the live stream. */
  put(item) {
    if (this.loaded) this._put(item);
    else this.early.push(item);
  }

  setCounts(counts) {
    for (const [state, group] of this.groups) group.setCount(counts[state] ?? 0);
    const total = [...this.groups.values()].reduce((sum, group) => sum + group.count, 0);
    this.status.hidden = total > 0;
    setText(this.status, "No items.");
  }

  /** The run could not be loaded: say so instead of "Loading items…". */
  fail(message) {
    this.status.className = "error";
    setText(this.status, message);
  }

  _group(state) {
    const group = new ItemGroup(state, { open: this.open.has(state), onMore: (g) => this._more(g) });
    group.node.addEventListener("toggle", () => {
      if (group.node.open) this.open.add(state); else this.open.delete(state);
    });
    return group;
  }

  _put(item) {
    let view = this.views.get(item.sequence);
    if (!view) {
      view = new ItemView(item.sequence);
      this.views.set(item.sequence, view);
    }
    view.update(item);
    const group = this.groups.get(item.state);
    if (!group) return;
    group.add(view);
    group.node.hidden = false;
  }

  async _more(group) {
    group.more.disabled = true;
    try {
      const { body } = await api.items(this.runId, { state: group.state, limit: PAGE_SIZE, cursor: group.cursor });
      // What the stream delivered since is at least as new: keep it.
      for (const item of body.groups?.[group.state] ?? []) if (!this.views.has(item.sequence)) this._put(item);
      group.cursor = body.nextCursor;
      group.setCount(body.counts?.[group.state] ?? group.count);
    } finally {
      group.more.disabled = false;
    }
  }
}
