// The archive (`#/archive?status=&model=&dataset=&provider=&label=&q=&cursor=&trail=`):
// every run, filtered and paginated, with the whole view in the URL so that it can be
// shared. `trail` holds the cursors of the pages before this one, for "Newer".
import { api } from "./api.js";
import { accuracyBar } from "./bar.js";
import { h, replace } from "./dom.js";
import { duration, runTitle, timestamp } from "./format.js";
import { link, navigate } from "./router.js";
import { RunSelection } from "./selection.js";

const FILTERS = ["status", "model", "dataset", "provider", "label", "q"];
const STATUSES = ["", "pending", "running", "completed", "failed", "canceled"];
const PAGE_SIZE = 50;

// Model, dataset and provider filter on exact names: suggest the ones on screen.
const SUGGESTED = { model: "modelName", dataset: "datasetName", provider: "providerName" };

function fillSuggestions(form, runs) {
  for (const [name, field] of Object.entries(SUGGESTED)) {
    const names = [...new Set(runs.map(({ run }) => run[field]))].sort();
    replace(form.querySelector(`#suggest-${name}`), names.map((value) => h("option", { value })));
  }
}

function filterForm(params) {
  const field = (name, label, attrs = {}) =>
    h("label", {}, label, h("input", { name, value: params.get(name) ?? "", ...attrs }),
      name in SUGGESTED ? h("datalist", { id: `suggest-${name}` }) : null);
  const status = h("select", { name: "status" },
    STATUSES.map((s) => h("option", { value: s, selected: (params.get("status") ?? "") === s }, s || "any")));
  const form = h("form", { class: "form-grid panel", role: "search", "aria-label": "Filter runs" },
    h("label", {}, "Status", status),
    field("model", "Model", { list: "suggest-model" }),
    field("dataset", "Dataset", { list: "suggest-dataset" }),
    field("provider", "Provider", { list: "suggest-provider" }),
    field("label", "Label (key:value)", { pattern: "[^:]+:.*", placeholder: "team:evals" }),
    field("q", "Search", { type: "search", placeholder: "id, model, dataset, label…" }),
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Apply"),
      h("a", { class: "button", href: "#/archive" }, "Clear")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    navigate("/archive", Object.fromEntries(FILTERS.map((name) => [name, data.get(name)?.trim()])));
  });
  status.addEventListener("change", () => form.requestSubmit());
  return form;
}

function runRow(summary) {
  const { run, progress } = summary;
  const box = selection.checkbox(run, `Select ${run.id} to compare`);
  return h("tr", { dataset: { runId: run.id } },
    h("td", {}, box),
    h("td", {}, h("a", { href: `#/runs/${encodeURIComponent(run.id)}` }, runTitle(run)),
      h("div", { class: "muted mono" }, run.id)),
    h("td", {}, h("span", { class: "badge", dataset: { status: run.status } }, run.status)),
    h("td", { class: "num hide-narrow" }, progress ? `${progress.completed}/${progress.total}` : "–"),
    h("td", { class: "num" }, accuracyBar(summary.accuracy)),
    h("td", { class: "num hide-narrow" }, duration(summary.durationMs)),
    h("td", { class: "hide-narrow" }, timestamp(run.createdAt)));
}

// Runs ticked on one page of the archive stay ticked on the others.
const selection = new RunSelection();

/** "← Newer" and "Older →": the trail of earlier cursors rides along in the URL. */
function pagerLinks(filters, cursor, trail, nextCursor) {
  const older = nextCursor
    ? link("/archive", { ...filters, cursor: nextCursor, trail: [...trail, cursor].filter(Boolean).join(",") })
    : null;
  const newer = cursor
    ? link("/archive", { ...filters, cursor: trail[trail.length - 1] ?? "", trail: trail.slice(0, -1).join(",") })
    : null;
  return { newer, older };
}

export function mountArchive(root, { params }) {
  const filters = Object.fromEntries(FILTERS.map((name) => [name, params.get(name) ?? ""]));
  const cursor = params.get("cursor") ?? "";
  const trail = (params.get("trail") ?? "").split(",").filter(Boolean);
  const compareButton = h("button", { type: "button", class: "primary", disabled: true,
    onclick: () => navigate("/compare", { ids: selection.ids().join(",") }) }, "Compare selected");
  const picked = h("span", { class: "muted", role: "status" });
  const clearPicked = h("button", { type: "button", hidden: true, onclick: () => selection.clear() },
    "Clear selection");
  selection.forgetBoxes();
  selection.onChange = () => {
    const count = selection.ids().length;
    compareButton.disabled = count < 2;
    clearPicked.hidden = count === 0;
    picked.textContent = count ? `${count} selected on ${selection.dataset}` : "";
  };
  selection.onChange();
  const body = h("tbody", {}, h("tr", {}, h("td", { colspan: 7, class: "muted" }, "Loading…")));
  const pager = h("div", { class: "pager" });
  const form = filterForm(params);
  replace(root,
    h("div", { class: "row" }, h("h1", {}, "Archive"), h("span", { class: "spacer" }), picked, clearPicked,
      compareButton),
    form,
    h("div", { class: "table-wrap" }, h("table", { id: "archive" },
      h("thead", {}, h("tr", {}, h("th", {}, h("span", { class: "muted" }, "✓")), h("th", {}, "Run"),
        h("th", {}, "Status"), h("th", { class: "num hide-narrow" }, "Judged"), h("th", { class: "num" }, "Accuracy"),
        h("th", { class: "num hide-narrow" }, "Duration"), h("th", { class: "hide-narrow" }, "Created"))),
      body)),
    pager);

  let live = true;
  api.archive({ ...filters, cursor, limit: PAGE_SIZE }).then(({ body: page }) => {
    if (!live) return;
    fillSuggestions(form, page.runs);
    const rows = page.runs.map(runRow);
    replace(body, rows.length ? rows : h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No runs match.")));
    const { newer, older } = pagerLinks(filters, cursor, trail, page.nextCursor);
    replace(pager,
      newer ? h("a", { class: "button", href: newer }, "← Newer") : null,
      trail.length ? h("a", { class: "button", href: link("/archive", filters) }, "Newest") : null,
      h("span", { class: "muted" }, `${page.runs.length} on this page`),
      older ? h("a", { class: "button", href: older }, "Older →") : null);
  }).catch((error) => {
    if (live) replace(body, h("tr", {}, h("td", { colspan: 7, class: "error" }, error.message)));
  });
  return () => { live = false; };
}
