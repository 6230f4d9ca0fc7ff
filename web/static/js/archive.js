// The archive (`#/archive?status=&model=&dataset=&provider=&label=&q=&from=&to=&sort=&desc=&cols=&cursor=`):
// every run as a table, filtered, sorted and paged on the server, with the whole view
// in the URL so that it can be shared. The form is built once: a change of filter
// updates the URL and the table, never the control the user is on. Rows of runs the
// live stream knows (active and recent) are patched as they progress.
import { api } from "./api.js";
import { accuracyBar } from "./bar.js";
import { h, replace, setText } from "./dom.js";
import { duration, latency, runTitle, timestamp } from "./format.js";
import { link, navigate } from "./router.js";
import { RunSelection } from "./selection.js";

const TEXT_FILTERS = ["model", "dataset", "provider", "label", "q"];
const STATUSES = ["pending", "running", "completed", "failed", "canceled"];
const PAGE_SIZE = 50;
const SUGGESTED = { model: "models", dataset: "datasets", provider: "providers", label: "labels" };
const OPTIONAL = { labels: "Labels", tokens: "Tokens", latency: "Mean latency", feedback: "Feedback" };
const SORTABLE_OPTIONAL = new Set(["tokens", "latency"]);
const FIGURES_MS = 2000; // how often, at most, live rows' tokens and latency are fetched again
const number = new Intl.NumberFormat();

// Runs ticked on one page of the archive stay ticked on the others.
const selection = new RunSelection();

/** The view's state from the URL. */
function stateOf(params) {
  const state = Object.fromEntries(TEXT_FILTERS.map((name) => [name, params.get(name) ?? ""]));
  state.status = (params.get("status") ?? "").split(",").filter((s) => STATUSES.includes(s));
  state.from = params.get("from") ?? "";
  state.to = params.get("to") ?? "";
  state.sort = params.get("sort") ?? "created";
  state.desc = params.get("desc") !== "false";
  state.cols = (params.get("cols") ?? "").split(",").filter((c) => c in OPTIONAL);
  state.cursor = params.get("cursor") ?? "";
  return state;
}

function urlParams(state) {
  return { ...Object.fromEntries(TEXT_FILTERS.map((name) => [name, state[name]])),
    status: state.status.join(","), from: state.from, to: state.to,
    sort: state.sort === "created" ? "" : state.sort, desc: state.desc ? "" : "false",
    cols: state.cols.join(","), cursor: state.cursor };
}

/** A calendar day as the start of that day in the user's zone, in RFC 3339. */
function dayStart(day, plusDays = 0) {
  if (!day) return "";
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}

function filterForm(state, apply) {
  const field = (name, label, attrs = {}) =>
    h("label", {}, label, h("input", { name, value: state[name], autocomplete: "off", ...attrs }),
      name in SUGGESTED ? h("datalist", { id: `suggest-${name}` }) : null);
  const statuses = h("fieldset", { class: "statuses" }, h("legend", {}, "Status"),
    STATUSES.map((s) => h("label", { class: "inline" },
      h("input", { type: "checkbox", name: "status", value: s, checked: state.status.includes(s) }), s)));
  const form = h("form", { class: "form-grid panel", role: "search", "aria-label": "Filter runs" },
    statuses,
    field("model", "Model", { list: "suggest-model" }),
    field("dataset", "Dataset", { list: "suggest-dataset" }),
    field("provider", "Provider", { list: "suggest-provider" }),
    field("label", "Label (key:value)", { list: "suggest-label", pattern: "[^:]+:.*", placeholder: "team:evals" }),
    field("q", "Search", { type: "search", placeholder: "id, model, dataset, label…" }),
    field("from", "Created from", { type: "date" }),
    field("to", "Created until", { type: "date" }),
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Apply"),
      h("a", { class: "button", href: "#/archive" }, "Clear")));
  const read = () => {
    const data = new FormData(form);
    return { ...Object.fromEntries(TEXT_FILTERS.map((name) => [name, data.get(name)?.trim() ?? ""])),
      status: data.getAll("status"), from: data.get("from"), to: data.get("to") };
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); apply(read()); });
  statuses.addEventListener("change", () => apply(read()));
  return form;
}

/** `current()`: the view's state now (the picker outlives the state it was built with). */
function columnPicker(current, apply) {
  return h("details", { class: "columns" }, h("summary", {}, "Columns"),
    h("div", { class: "columns-menu" }, Object.entries(OPTIONAL).map(([key, label]) => {
      const box = h("input", { type: "checkbox", checked: current().cols.includes(key) });
      box.addEventListener("change", () => {
        const cols = Object.keys(OPTIONAL).filter((k) => (k === key ? box.checked : current().cols.includes(k)));
        apply({ cols });
      });
      return h("label", { class: "inline" }, box, label);
    })));
}

const COLUMNS = [
  { key: null, label: "✓", hidden: true },
  { key: "model", label: "Run" },
  { key: "status", label: "Status" },
  { key: "judged", label: "Judged", num: true, narrow: true },
  { key: "accuracy", label: "Accuracy", num: true },
  { key: "duration", label: "Duration", num: true, narrow: true },
  { key: "created", label: "Created", narrow: true },
];

function runRow(summary, cols) {
  const { run, progress } = summary;
  const box = selection.checkbox(run, `Select ${run.id} to compare`);
  return h("tr", { dataset: { runId: run.id } },
    h("td", {}, box),
    h("td", {}, h("a", { href: `#/runs/${encodeURIComponent(run.id)}` }, runTitle(run)),
      h("div", { class: "muted mono" }, run.id)),
    h("td", {}, h("span", { class: "badge", dataset: { status: run.status } }, run.status)),
    h("td", { class: "num hide-narrow", dataset: { cell: "judged" } }, progress ? `${progress.completed}/${progress.total}` : "–"),
    h("td", { class: "num", dataset: { cell: "accuracy" } }, accuracyBar(summary.accuracy)),
    h("td", { class: "num hide-narrow" }, duration(summary.durationMs)),
    h("td", { class: "hide-narrow" }, timestamp(run.createdAt)),
    cols.map((key) => optionalCell(key, summary)));
}

function optionalCell(key, summary) {
  const { run } = summary;
  if (key === "labels") {
    return h("td", { class: "labels-cell", dataset: { cell: key } },
      Object.entries(run.labels ?? {}).map(([k, v]) => h("code", { class: "pair" }, `${k}=${v}`)));
  }
  if (key === "tokens") return h("td", { class: "num", dataset: { cell: key } }, summary.tokens === null ? "–" : number.format(summary.tokens));
  if (key === "latency") return h("td", { class: "num", dataset: { cell: key } }, latency(summary.latencyMeanMs));
  return h("td", { dataset: { cell: key } }, run.feedback ? (run.feedback.rating === "up" ? "👍 good" : "👎 bad") : "–");
}

export function mountArchive(root, { params, store }) {
  let state = stateOf(params);
  const compareButton = h("button", { type: "button", class: "primary", disabled: true,
    onclick: () => navigate("/compare", { ids: selection.ids().join(",") }) }, "Compare selected");
  const picked = h("span", { class: "muted", role: "status" });
  const clearPicked = h("button", { type: "button", hidden: true, onclick: () => selection.clear() },
    "Clear selection");
  selection.onChange = () => {
    const count = selection.ids().length;
    compareButton.disabled = count < 2;
    clearPicked.hidden = count === 0;
    picked.textContent = count ? `${count} selected on ${selection.dataset}` : "";
  };
  selection.onChange();
  const apply = (change) => navigate("/archive", urlParams({ ...state, ...change, cursor: "" }));
  const form = filterForm(state, (filters) => apply({ ...filters, from: filters.from, to: filters.to }));
  const head = h("tr");
  const body = h("tbody", {}, h("tr", {}, h("td", { colspan: 7, class: "muted" }, "Loading…")));
  const count = h("span", { class: "muted", id: "archive-count", role: "status" });
  const pager = h("div", { class: "pager" });
  replace(root,
    h("div", { class: "row" }, h("h1", {}, "Archive"), count, h("span", { class: "spacer" }), picked, clearPicked,
      compareButton),
    form,
    h("div", { class: "row table-tools" }, h("span", { class: "spacer" }), columnPicker(() => state, (c) => apply(c))),
    h("div", { class: "table-wrap" }, h("table", { id: "archive" }, h("thead", {}, head), body)),
    pager);

  api.facets().then(({ body: facets }) => {
    for (const [name, key] of Object.entries(SUGGESTED)) {
      replace(form.querySelector(`#suggest-${name}`), facets[key].map((value) => h("option", { value })));
    }
  }).catch(() => {});

  function header() {
    replace(head, COLUMNS.map((column) => {
      const attrs = { scope: "col", class: [column.num ? "num" : "", column.narrow ? "hide-narrow" : ""].join(" ").trim() || null };
      if (!column.key) return h("th", attrs, h("span", { class: "visually-hidden" }, "Select"), h("span", { "aria-hidden": "true", class: "muted" }, "✓"));
      const sorted = state.sort === column.key;
      attrs["aria-sort"] = sorted ? (state.desc ? "descending" : "ascending") : null;
      attrs.dataset = { column: column.key };
      return h("th", attrs, h("a", { class: "sort", href: link("/archive", urlParams({ ...state, sort: column.key,
        desc: sorted ? !state.desc : column.key === "created" || column.num, cursor: "" })) }, column.label));
    }), state.cols.map((key) => {
      if (!SORTABLE_OPTIONAL.has(key)) return h("th", { scope: "col", dataset: { column: key } }, OPTIONAL[key]);
      const sorted = state.sort === key;
      return h("th", { scope: "col", class: "num", dataset: { column: key },
        "aria-sort": sorted ? (state.desc ? "descending" : "ascending") : null },
      h("a", { class: "sort", href: link("/archive", urlParams({ ...state, sort: key, desc: sorted ? !state.desc : true, cursor: "" })) },
        OPTIONAL[key]));
    }));
  }

  let generation = 0;
  let shown = new Map();
  const pageQuery = () => ({ ...Object.fromEntries(TEXT_FILTERS.map((name) => [name, state[name]])),
    status: state.status.join(","), from: dayStart(state.from), to: dayStart(state.to, 1), sort: state.sort,
    desc: String(state.desc), cursor: state.cursor, limit: PAGE_SIZE });
  async function load() {
    const mine = ++generation;
    header();
    try {
      const { body: page } = await api.archive(pageQuery());
      if (mine !== generation) return;
      selection.forgetBoxes();
      const rows = page.runs.map((summary) => runRow(summary, state.cols));
      shown = new Map(page.runs.map((summary, index) => [summary.run.id, rows[index]]));
      replace(body, rows.length ? rows : h("tr", {}, h("td", { colspan: 7 + state.cols.length, class: "muted" }, "No runs match.")));
      const offset = state.cursor ? Number(state.cursor.slice(1)) : 0;
      setText(count, page.total ? `${number.format(offset + 1)}–${number.format(offset + page.runs.length)} of ${number.format(page.total)} runs`
        : "0 runs");
      const newer = offset > 0 ? link("/archive", urlParams({ ...state, cursor: offset - PAGE_SIZE > 0 ? `r${offset - PAGE_SIZE}` : "" })) : null;
      const older = page.nextCursor ? link("/archive", urlParams({ ...state, cursor: page.nextCursor })) : null;
      replace(pager,
        newer ? h("a", { class: "button", href: newer }, "← Newer") : null,
        offset > 0 ? h("a", { class: "button", href: link("/archive", urlParams({ ...state, cursor: "" })) }, "Newest") : null,
        h("span", { class: "muted" }, `${page.runs.length} on this page`),
        older ? h("a", { class: "button", href: older }, "Older →") : null);
    } catch (error) {
      if (mine === generation) replace(body, h("tr", {}, h("td", { colspan: 7, class: "error" }, error.message)));
    }
  }
  load();

  // Tokens and latency are not in the live stream: while a shown run moves on, the
  // page's figures are fetched again (at most every FIGURES_MS) and only those cells
  // are replaced, so nothing the user is on is rebuilt.
  let figuresTimer = 0;
  function refreshFigures() {
    if (figuresTimer || !state.cols.some((key) => key === "tokens" || key === "latency")) return;
    figuresTimer = setTimeout(async () => {
      figuresTimer = 0;
      const mine = generation;
      try {
        const { body: page } = await api.archive(pageQuery());
        if (mine !== generation) return;
        for (const summary of page.runs) {
          for (const cell of shown.get(summary.run.id)?.querySelectorAll("[data-cell=tokens], [data-cell=latency]") ?? []) {
            cell.replaceWith(optionalCell(cell.dataset.cell, summary));
          }
        }
      } catch { /* the next change of a shown run tries again */ }
    }, FIGURES_MS);
  }

  // Live rows: a run on screen that the stream reports on gets its status and counts.
  const unsubscribe = store.subscribe((changes) => {
    for (const id of changes.runs) {
      const row = shown.get(id);
      const entry = store.runs.get(id);
      if (!row || !entry || entry.stub || !entry.progress) continue;
      refreshFigures();
      const badge = row.querySelector(".badge");
      setText(badge, entry.run.status);
      badge.dataset.status = entry.run.status;
      setText(row.querySelector("[data-cell=judged]"), `${entry.progress.completed}/${entry.progress.total}`);
      const accuracy = entry.progress.completed ? entry.progress.correct / entry.progress.completed : null;
      replace(row.querySelector("[data-cell=accuracy]"), accuracyBar(accuracy));
    }
  });

  return {
    update(next) {
      state = stateOf(next);
      load();
    },
    unmount() {
      unsubscribe();
      clearTimeout(figuresTimer);
    },
  };
}
