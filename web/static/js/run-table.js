// A run's items as a table (`GET /api/runs/{id}/table`): sortable columns, a state
// filter, column filters, full-text search over prompts, responses and errors, one page
// at a time, so a 100,000-item run costs what a screenful costs. The server sorts,
// filters and searches; the page keeps only the rows it shows. The whole query is in
// the page's URL (`#/runs/<id>?state=&q=&answer=&scoreMin=…&sort=&desc=&offset=`): a
// change goes through the URL, and the table follows the URL.
import { api } from "./api.js";
import { h, replace, setAttr, setText } from "./dom.js";
import { latency } from "./format.js";
import { verdict } from "./item-view.js";
import { COLUMN_FILTERS, TableFilters } from "./table-filters.js";

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
const DEFAULTS = { q: "", state: "", sort: "sequence", desc: "", offset: "",
  ...Object.fromEntries(COLUMN_FILTERS.map((name) => [name, ""])) };
const SEARCH_DELAY_MS = 250;
const number = new Intl.NumberFormat();

function score(row) {
  if (row.score !== null && row.score !== undefined) return Number(row.score.toFixed(3));
  return row.correct === null || row.correct === undefined ? "–" : row.correct ? "1" : "0";
}

export class RunTable {
  /** `itemLink(sequence)`: the permalink of an item (opens the drawer); `go(params)`:
   * put the table's query into the page's URL (the table then `follow`s it). */
  constructor(runId, { itemLink, go }) {
    this.runId = runId;
    this.itemLink = itemLink;
    this.go = go;
    this.query = {}; // until the first `follow`, so that it fetches
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
    this.filters = new TableFilters((values) => this.set({ ...values, offset: 0 }));
    this.headers = COLUMNS.map((column) => this._header(column));
    this.body = h("tbody", {}, h("tr", {}, h("td", { colspan: COLUMNS.length, class: "muted" }, "Loading…")));
    this.status = h("span", { class: "muted", role: "status", id: "items-status" });
    this.previous = h("button", { type: "button", onclick: () => this.set({ offset: Math.max(0, this.offset() - PAGE_SIZE) }) },
      "← Previous");
    this.next = h("button", { type: "button", onclick: () => this.set({ offset: this.offset() + PAGE_SIZE }) }, "Next →");
    this.node = h("section", { class: "items-table", "aria-labelledby": "items-title" },
      h("h2", { id: "items-title" }, "Items"),
      h("div", { class: "row toolbar" },
        h("label", { class: "grow" }, "Search", this.search),
        h("label", {}, "State", this.stateFilter)),
      this.filters.node,
      h("div", { class: "table-wrap" }, h("table", { id: "items-table" },
        h("thead", {}, h("tr", {}, this.headers)), this.body)),
      h("div", { class: "pager" }, this.previous, this.status, this.next));
  }

  _header(column) {
    if (!column.key) return h("th", { scope: "col", class: "prompt-col" }, column.label);
    const button = h("button", { type: "button", class: "sort", dataset: { sort: column.key },
      onclick: () => this.set({ sort: column.key, desc: this.query.sort === column.key && !this.query.desc ? "true" : "", offset: 0 }) },
    column.label);
    return h("th", { scope: "col", class: column.num ? "num" : null, dataset: { column: column.key } }, button);
  }

  offset() {
    return Number(this.query.offset) || 0;
  }

  /** The query's values that differ from the defaults, for the URL. */
  params() {
    return Object.fromEntries(Object.entries(this.query).filter(([key, value]) => value !== DEFAULTS[key]));
  }

  set(change) {
    const next = { ...this.query, ...change };
    for (const key of Object.keys(next)) next[key] = next[key] === 0 ? "" : String(next[key] ?? "");
    this.go(Object.fromEntries(Object.entries(next).filter(([key, value]) => value !== DEFAULTS[key])));
  }

  /** Take the query from the page's URL parameters; fetch if it changed. */
  follow(params) {
    const next = Object.fromEntries(Object.keys(DEFAULTS).map((key) => [key, params.get(key) ?? DEFAULTS[key]]));
    const changed = Object.keys(next).some((key) => next[key] !== this.query[key]);
    this.query = next;
    if (this.search !== document.activeElement) this.search.value = next.q;
    this.stateFilter.value = next.state;
    this.filters.show(next);
    return changed ? this.refresh() : Promise.resolve();
  }

  /** Fetch the current page again (the run moved on, or the query changed). */
  async refresh() {
    const mine = ++this.generation;
    let table;
    try {
      ({ body: table } = await api.table(this.runId, { ...this.query, limit: PAGE_SIZE, at: this.at }));
    } catch (error) {
      if (mine !== this.generation) return;
      if (error.status !== 422) throw error;
      this.filters.judge(error);
      replace(this.body, h("tr", {}, h("td", { colspan: COLUMNS.length, class: "error" }, error.message)));
      setText(this.status, "");
      return;
    }
    if (mine !== this.generation) return;
    this.filters.judge(null);
    this._render(table);
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
