// Compare's picker (`#/compare`): find runs by dataset or search, page through older
// ones, and tick two or more on one dataset.
import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { runTitle, timestamp } from "./format.js";
import { notifyError } from "./notify.js";
import { navigate } from "./router.js";
import { RunSelection } from "./selection.js";

const PAGE_SIZE = 50;

function filterForm(onFilter) {
  // Runs may name datasets the server no longer lists, so the known ones are suggestions.
  const known = h("datalist", { id: "picker-datasets" });
  api.datasets().then(({ body }) => known.append(...body.map((d) => h("option", { value: d.name }))))
    .catch(notifyError);
  const dataset = h("input", { name: "dataset", list: "picker-datasets", placeholder: "any dataset" });
  const form = h("form", { class: "form-grid panel", role: "search", "aria-label": "Find runs" },
    h("label", {}, "Dataset", dataset, known),
    h("label", {}, "Search", h("input", { name: "q", type: "search", placeholder: "id, model, label…" })),
    h("div", { class: "row" }, h("button", { type: "submit" }, "Find")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    onFilter({ dataset: data.get("dataset").trim(), q: data.get("q").trim() });
  });
  dataset.addEventListener("change", () => form.requestSubmit());
  return form;
}

export function mountPicker(root) {
  const selection = new RunSelection();
  const go = h("button", { type: "button", class: "primary", disabled: true,
    onclick: () => navigate("/compare", { ids: selection.ids().join(",") }) }, "Compare");
  const hint = h("span", { class: "muted", role: "status" }, "Pick two or more runs on the same dataset.");
  selection.onChange = () => {
    const count = selection.ids().length;
    go.disabled = count < 2;
    hint.textContent = count ? `${count} selected on ${selection.dataset}` : "Pick two or more runs on the same dataset.";
  };
  const body = h("tbody");
  const more = h("button", { type: "button", hidden: true }, "Older runs");
  let filters = {};
  let cursor = null;
  let generation = 0;

  async function fetchPage(append) {
    const mine = ++generation;
    more.disabled = true;
    try {
      const { body: page } = await api.archive({ ...filters, limit: PAGE_SIZE, cursor: append ? cursor : null });
      if (mine !== generation) return;
      if (!append) { selection.forgetBoxes(); body.replaceChildren(); }
      body.append(...page.runs.map(({ run }) => h("tr", { dataset: { runId: run.id } },
        h("td", {}, selection.checkbox(run, `Compare ${run.id}`)),
        h("td", {}, runTitle(run), h("div", { class: "muted mono" }, run.id)),
        h("td", {}, run.datasetName), h("td", { class: "hide-narrow" }, timestamp(run.createdAt)))));
      if (!body.children.length) body.append(h("tr", {}, h("td", { colspan: 4, class: "muted" }, "No runs match.")));
      cursor = page.nextCursor;
      more.hidden = !cursor;
    } catch (error) {
      replace(body, h("tr", {}, h("td", { colspan: 4, class: "error" }, error.message)));
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener("click", () => fetchPage(true));

  replace(root, h("div", { class: "row" }, h("h1", {}, "Compare"), h("span", { class: "spacer" }), hint, go),
    filterForm((chosen) => { filters = chosen; fetchPage(false); }),
    h("div", { class: "table-wrap" }, h("table", { id: "compare-picker" },
      h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "Run"), h("th", {}, "Dataset"),
        h("th", { class: "hide-narrow" }, "Created"))),
      body)),
    h("div", { class: "pager" }, more));
  fetchPage(false);
}
