// A run's items as a table (`GET /api/runs/{id}/table`): sortable columns, a state
// filter, full-text search over prompts, responses and errors, one page at a time, so a
// 100,000-item run costs what a screenful costs. The server sorts and searches; the
// page keeps only the rows it shows.
import { api } from "./api.js";
import { h, replace, setAttr, setText } from "./dom.js";
import { latency } from "./format.js";
import { verdict } from "./item-view.js";

const STATES = ["correct", "incorrect", "awaiting", "faulted", "running", "pending"];
const COLUMNS = [
  { key: "sequence", label: "#", num: true },
  { key: "state", label: "State" },
  { key: "answer", label: "Answer" },
  { key: "expected", label: "Expected" },
  { key: "score", label: "Score", num: true },
  { key: "latency", label: "Latency", num: true },
  { key: "tokens", label: "Tokens", num: true },
  { key: "attempts", label: "Attempts", num: true },
  { key: null, label: "Prompt" },
];
const PAGE_SIZE = 50;
const SEARCH_DELAY_MS = 250;
const number = new Intl.NumberFormat();

function score(row) {
  if (row.score !== null && row.score !== undefined) return Number(row.score.toFixed(3));
  return row.correct === null || row.correct === undefined ? "–" : row.correct ? "1" : "0";
}

export class RunTable {
  /** `itemLink(sequence)`: the permalink of an item (opens the drawer). */
  constructor(runId, { itemLink }) {
    this.runId = runId;
    this.itemLink = itemLink;
    this.query = { q: "", state: "", sort: "sequence", desc: false, offset: 0 };
    this.at = null; // a cursor while the page replays the run's history
    this.generation = 0;
    this.search = h("input", { type: "search", name: "q", placeholder: "words in prompt, response or error",
      "aria-controls": "items-table" });
    this.stateFilter = h("select", { name: "state", "aria-controls": "items-table" },
      h("option", { value: "" }, "every state"), STATES.map((s) => h("option", { value: s }, s)));
    let timer = 0;
    this.search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.set({ q: this.search.value.trim(), offset: 0 }), SEARCH_DELAY_MS);
    });
    this.stateFilter.addEventListener("change", () => this.set({ state: this.stateFilter.value, offset: 0 }));
    this.headers = COLUMNS.map((column) => this._header(column));
    this.body = h("tbody", {}, h("tr", {}, h("td", { colspan: COLUMNS.length, class: "muted" }, "Loading…")));
    this.status = h("span", { class: "muted", role: "status", id: "items-status" });
    this.previous = h("button", { type: "button", onclick: () => this.set({ offset: Math.max(0, this.query.offset - PAGE_SIZE) }) },
      "← Previous");
    this.next = h("button", { type: "button", onclick: () => this.set({ offset: this.query.offset + PAGE_SIZE }) }, "Next →");
    this.node = h("section", { class: "items-table", "aria-labelledby": "items-title" },
      h("h2", { id: "items-title" }, "Items"),
      h("div", { class: "row toolbar" },
        h("label", { class: "grow" }, "Search", this.search),
        h("label", {}, "State", this.stateFilter)),
      h("div", { class: "table-wrap" }, h("table", { id: "items-table" },
        h("thead", {}, h("tr", {}, this.headers)), this.body)),
      h("div", { class: "pager" }, this.previous, this.status, this.next));
  }

  _header(column) {
    if (!column.key) return h("th", { scope: "col", class: "prompt-col" }, column.label);
    const button = h("button", { type: "button", class: "sort", dataset: { sort: column.key },
      onclick: () => this.set({ sort: column.key, desc: this.query.sort === column.key ? !this.query.desc : false, offset: 0 }) },
    column.label);
    return h("th", { scope: "col", class: column.num ? "num" : null, dataset: { column: column.key } }, button);
  }

  set(change) {
    Object.assign(this.query, change);
    return this.refresh();
  }

  /** Fetch the current page again (the run moved on, or the query changed). */
  async refresh() {
    const mine = ++this.generation;
    const { q, state, sort, desc, offset } = this.query;
    const { body } = await api.table(this.runId, { q, state, sort, desc: desc ? "true" : "", offset,
      limit: PAGE_SIZE, at: this.at });
    if (mine !== this.generation) return;
    this._render(body);
  }

  _render(table) {
    for (const th of this.headers) {
      const key = th.dataset.column;
      if (!key) continue;
      setAttr(th, "aria-sort", key === this.query.sort ? (this.query.desc ? "descending" : "ascending") : null);
    }
    const rows = table.rows.map((row) => h("tr", { dataset: { sequence: row.sequence, state: row.state } },
      h("td", { class: "num" }, h("a", { href: this.itemLink(row.sequence), "aria-label": `Item ${row.sequence}` },
        `#${row.sequence}`)),
      h("td", {}, h("span", { class: "badge", dataset: { state: row.state } }, verdict(row))),
      h("td", {}, row.answer ?? "–"),
      h("td", {}, row.expected ?? "–"),
      h("td", { class: "num" }, score(row)),
      h("td", { class: "num" }, latency(row.latencyMs)),
      h("td", { class: "num" }, row.tokens ?? "–"),
      h("td", { class: "num" }, row.attempts || "–"),
      h("td", { class: "prompt-col" }, row.error ? h("span", { class: "error" }, row.error) : row.promptPreview ?? "")));
    // Rows are rebuilt as the run moves on; a focused item link is focused again.
    const focused = this.body.contains(document.activeElement)
      ? document.activeElement.closest("tr")?.dataset.sequence : null;
    replace(this.body, rows.length ? rows
      : h("tr", {}, h("td", { colspan: COLUMNS.length, class: "muted" }, "No items match.")));
    if (focused) this.body.querySelector(`tr[data-sequence="${focused}"] a`)?.focus({ preventScroll: true });
    const first = table.matched ? table.offset + 1 : 0;
    const last = table.offset + table.rows.length;
    setText(this.status, `${number.format(first)}–${number.format(last)} of ${number.format(table.matched)}`
      + (table.matched !== table.total ? ` matching (${number.format(table.total)} items)` : " items"));
    this.previous.disabled = table.offset === 0;
    this.next.disabled = last >= table.matched;
  }
}
