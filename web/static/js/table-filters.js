// The items table's column filters (answer, expected, score, latency and token ranges,
// retried items) as a small form, read from and written to the page's URL parameters,
// which are the names `GET /api/runs/{id}/table` takes. A field the server refuses
// (422) is marked on the field.
import { h, setText } from "./dom.js";

const FIELDS = [
  { name: "answer", label: "Answer is", type: "text", placeholder: "B" },
  { name: "expected", label: "Expected is", type: "text", placeholder: "C" },
  { name: "scoreMin", label: "Score from", type: "number", step: "any" },
  { name: "scoreMax", label: "Score to", type: "number", step: "any" },
  { name: "latencyMin", label: "Latency from (ms)", type: "number", min: 0, step: "any" },
  { name: "latencyMax", label: "Latency to (ms)", type: "number", min: 0, step: "any" },
  { name: "tokensMin", label: "Tokens from", type: "number", min: 0, step: 1 },
  { name: "tokensMax", label: "Tokens to", type: "number", min: 0, step: 1 },
];
export const COLUMN_FILTERS = [...FIELDS.map((field) => field.name), "attemptsMin"];

export class TableFilters {
  /** `apply(values)`: the filters changed (names of COLUMN_FILTERS to strings, "" unset). */
  constructor(apply) {
    this.inputs = Object.fromEntries(FIELDS.map(({ name, label, ...attrs }) =>
      [name, h("input", { name, autocomplete: "off", "aria-describedby": "column-filters-error", ...attrs })]));
    this.retried = h("input", { type: "checkbox", name: "attemptsMin" });
    this.count = h("span", { class: "muted", id: "column-filters-count" });
    this.error = h("p", { class: "error", id: "column-filters-error", role: "alert", hidden: true });
    this.form = h("form", { class: "form-grid", "aria-label": "Column filters" },
      FIELDS.map(({ name, label }) => h("label", {}, label, this.inputs[name])),
      h("label", { class: "inline" }, this.retried, "Only retried items"),
      h("div", { class: "row" }, h("button", { type: "submit" }, "Apply"),
        h("button", { type: "button", onclick: () => apply(Object.fromEntries(COLUMN_FILTERS.map((n) => [n, ""]))) },
          "Clear")));
    this.form.addEventListener("submit", (event) => { event.preventDefault(); apply(this.values()); });
    this.form.addEventListener("change", () => apply(this.values()));
    this.node = h("details", { class: "column-filters" },
      h("summary", {}, "Column filters ", this.count), this.form, this.error);
  }

  values() {
    const values = Object.fromEntries(FIELDS.map(({ name }) => [name, this.inputs[name].value.trim()]));
    values.attemptsMin = this.retried.checked ? "2" : "";
    return values;
  }

  /** Show `query`'s values, except in the field the user is typing in. */
  show(query) {
    for (const { name } of FIELDS) {
      const input = this.inputs[name];
      if (input !== document.activeElement && input.value !== (query[name] ?? "")) input.value = query[name] ?? "";
    }
    this.retried.checked = Number(query.attemptsMin) > 1;
    const active = COLUMN_FILTERS.filter((name) => query[name]).length;
    setText(this.count, active ? `(${active} on)` : "");
    if (active) this.node.open = true;
  }

  /** The server's verdict on the last query: `null`, or an error naming a field. */
  judge(error) {
    for (const input of [...Object.values(this.inputs), this.retried]) input.removeAttribute("aria-invalid");
    this.error.hidden = !error;
    setText(this.error, error ? error.message : "");
    const field = error?.details?.field;
    const input = field === "attemptsMin" ? this.retried : this.inputs[field];
    if (input) {
      input.setAttribute("aria-invalid", "true");
      this.node.open = true;
    }
  }
}
