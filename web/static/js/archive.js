// The archive (`#/archive?status=&model=&dataset=&provider=&q=&cursor=`): every run,
// filtered and paginated, with the whole view in the URL so that it can be shared.
import { api } from "./api.js";
import { accuracyBar } from "./bar.js";
import { h, replace } from "./dom.js";
import { duration, runTitle, timestamp } from "./format.js";
import { link, navigate } from "./router.js";

const FILTERS = ["status", "model", "dataset", "provider", "q"];
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

function runRow(summary, selected, onSelect) {
  const { run, progress } = summary;
  const box = h("input", { type: "checkbox", "aria-label": `Select ${run.id} to compare`,
    checked: selected.has(run.id), onchange: (e) => onSelect(run.id, e.target.checked) });
  return h("tr", { dataset: { runId: run.id } },
    h("td", {}, box),
    h("td", {}, h("a", { href: `#/runs/${encodeURIComponent(run.id)}` }, runTitle(run)),
      h("div", { class: "muted mono" }, run.id)),
    h("td", {}, h("span", { class: "badge", dataset: { status: run.status } }, run.status)),
    h("td", { class: "num" }, progress ? `${progress.completed}/${progress.total}` : "–"),
    h("td", {}, accuracyBar(summary.accuracy)),
    h("td", { class: "num hide-narrow" }, duration(summary.durationMs)),
    h("td", { class: "hide-narrow" }, timestamp(run.createdAt)));
}

export function mountArchive(root, { params }) {
  const filters = Object.fromEntries(FILTERS.map((name) => [name, params.get(name) ?? ""]));
  const cursor = params.get("cursor") ?? "";
  const selected = new Set();
  const compareButton = h("button", { type: "button", disabled: true,
    onclick: () => navigate("/compare", { ids: [...selected].join(",") }) }, "Compare selected");
  const onSelect = (id, on) => {
    if (on) selected.add(id); else selected.delete(id);
    compareButton.disabled = selected.size < 2;
  };
  const body = h("tbody", {}, h("tr", {}, h("td", { colspan: 7, class: "muted" }, "Loading…")));
  const pager = h("div", { class: "pager" });
  const form = filterForm(params);
  replace(root,
    h("div", { class: "row" }, h("h1", {}, "Archive"), h("span", { class: "spacer" }), compareButton),
    form,
    h("div", { class: "table-wrap" }, h("table", { id: "archive" },
      h("thead", {}, h("tr", {}, h("th", {}, h("span", { class: "muted" }, "✓")), h("th", {}, "Run"),
        h("th", {}, "Status"), h("th", { class: "num" }, "Judged"), h("th", {}, "Accuracy"),
        h("th", { class: "num hide-narrow" }, "Duration"), h("th", { class: "hide-narrow" }, "Created"))),
      body)),
    pager);

  let live = true;
  api.archive({ ...filters, cursor, limit: PAGE_SIZE }).then(({ body: page }) => {
    if (!live) return;
    fillSuggestions(form, page.runs);
    const rows = page.runs.map((summary) => runRow(summary, selected, onSelect));
    replace(body, rows.length ? rows : h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No runs match.")));
    replace(pager,
      cursor ? h("a", { class: "button", href: link("/archive", filters) }, "← Newest") : null,
      h("span", { class: "muted" }, `${page.runs.length} runs`),
      page.nextCursor ? h("a", { class: "button", href: link("/archive", { ...filters, cursor: page.nextCursor }) },
        "Older →") : null);
  }).catch((error) => {
    if (live) replace(body, h("tr", {}, h("td", { colspan: 7, class: "error" }, error.message)));
  });
  return () => { live = false; };
}
