// New run (`#/new`, `#/new?clone=<run id>`): start a run now (`POST /api/runs`) or add
// it to the queue (`POST /api/queue`). The config fields are those of the chosen
// provider; a 422 is shown on the field it names, not only in a corner.
import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { notify, notifyError } from "./notify.js";
import { PROVIDER_FIELDS } from "./provider-fields.js";
import { queuePanel } from "./queue-panel.js";
import { navigate } from "./router.js";
import { parseConfig, parseLabels } from "./spec-fields.js";

/** A labelled control with its own error line. */
function field(label, control, { wide = false } = {}) {
  const message = h("span", { class: "error field-error", id: `${control.name}-error`, role: "alert" });
  control.setAttribute("aria-describedby", message.id);
  const node = h("label", { class: wide ? "wide" : null }, label, control, message);
  const show = (text) => {
    message.textContent = text ?? "";
    if (text) control.setAttribute("aria-invalid", "true"); else control.removeAttribute("aria-invalid");
  };
  return { node, control, show };
}

function numberOrUndefined(value) {
  return value === "" || value === null ? undefined : Number(value);
}

function formatLabels(labels) {
  return Object.entries(labels ?? {}).map(([key, value]) => `${key}=${value}`).join(", ");
}

export function mountNewRun(root, { store, params }) {
  const provider = h("select", { name: "providerName" },
    Object.keys(PROVIDER_FIELDS).map((name) => h("option", { value: name }, name)));
  const model = h("input", { name: "modelName", required: true, value: PROVIDER_FIELDS.simulated.model, autocomplete: "off" });
  const datasets = h("select", { name: "datasetName", required: true }, h("option", { value: "" }, "Loading…"));
  const fields = {
    providerName: field("Provider", provider),
    modelName: field("Model", model),
    datasetName: field("Dataset", datasets),
    limit: field("Limit", h("input", { name: "limit", type: "number", min: 1, placeholder: "all items" })),
    concurrency: field("Concurrency", h("input", { name: "concurrency", type: "number", min: 1, max: 64, value: 4 })),
    config: field("More config (JSON, optional)", h("textarea", { name: "config", rows: 2, spellcheck: "false" }),
      { wide: true }),
    labels: field("Labels (key=value, comma-separated)", h("input", { name: "labels",
      placeholder: "team=evals, suite=nightly", autocomplete: "off" }), { wide: true }),
  };
  const options = h("fieldset", { class: "provider-options form-grid wide" });
  const queued = h("input", { name: "queue", type: "checkbox" });
  const submit = h("button", { type: "submit", class: "primary" }, "Start run");
  const form = h("form", { class: "panel form-grid", id: "new-run", "aria-label": "New run", novalidate: true },
    fields.providerName.node, fields.modelName.node, fields.datasetName.node, fields.limit.node,
    fields.concurrency.node, options, fields.config.node, fields.labels.node,
    h("label", { class: "inline" }, queued, "Queue it instead"),
    h("div", { class: "row" }, submit));

  /** The chosen provider's own fields, each writing `config.<key>`. */
  function showOptions(keepValues = {}) {
    const spec = PROVIDER_FIELDS[provider.value];
    for (const key of Object.keys(fields)) if (key.startsWith("config.")) delete fields[key];
    replace(options, h("legend", {}, `${provider.value} options`), spec.fields.map((option) => {
      const control = h("input", { name: `config.${option.key}`, type: "number", min: option.min, max: option.max,
        step: option.step ?? "any", value: keepValues[option.key] ?? null, placeholder: option.hint ?? "default" });
      fields[`config.${option.key}`] = field(option.label, control);
      return fields[`config.${option.key}`].node;
    }));
    fields.config.control.placeholder = `{"${spec.fields[0].key}": 1}`;
  }
  provider.addEventListener("change", () => {
    const previous = Object.values(PROVIDER_FIELDS).map((spec) => spec.model);
    if (previous.includes(model.value)) model.value = PROVIDER_FIELDS[provider.value].model;
    showOptions();
  });
  queued.addEventListener("change", () => { submit.textContent = queued.checked ? "Add to queue" : "Start run"; });
  showOptions();

  const clearErrors = () => { for (const one of Object.values(fields)) one.show(null); };
  /** Show `message` on the field the server named (`config.seed`, `modelName`…). */
  function markField(name, message) {
    const target = fields[name] ?? (name?.startsWith("config") ? fields.config : null);
    if (!target) return false;
    target.show(message);
    target.control.focus();
    return true;
  }

  function spec() {
    const data = new FormData(form);
    let config;
    let labels;
    try { config = parseConfig(fields.config.control.value); } catch (error) { markField("config", error.message); return null; }
    try { labels = parseLabels(fields.labels.control.value); } catch (error) { markField("labels", error.message); return null; }
    for (const option of PROVIDER_FIELDS[provider.value].fields) {
      const value = numberOrUndefined(data.get(`config.${option.key}`));
      if (value !== undefined) config[option.key] = value;
    }
    return {
      providerName: data.get("providerName"),
      modelName: data.get("modelName").trim(),
      datasetName: data.get("datasetName"),
      limit: numberOrUndefined(data.get("limit")),
      concurrency: numberOrUndefined(data.get("concurrency")),
      config,
      labels,
    };
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const body = spec();
    if (!body) return;
    submit.disabled = true;
    try {
      if (queued.checked) {
        await api.enqueue(body);
        notify("Added to the queue");
      } else {
        const { body: created } = await api.createRun(body);
        notify(`Started ${created.run.id}`);
        navigate(`/runs/${encodeURIComponent(created.run.id)}`);
      }
    } catch (error) {
      if (!(error.status === 422 && markField(error.details?.field, error.message))) notifyError(error);
    } finally {
      submit.disabled = false;
    }
  });

  const ready = api.datasets().then(({ body }) => {
    replace(datasets, body.map((d) => h("option", { value: d.name }, `${d.name} (${d.size} items, ${d.source})`)));
  }).catch((error) => {
    replace(datasets, h("option", { value: "" }, "unavailable"));
    notifyError(error);
  });

  const clone = params.get("clone");
  if (clone) {
    Promise.all([api.run(clone), ready]).then(([{ body: run }]) => {
      const config = { ...(run.config ?? {}) };
      if (typeof config.concurrency === "number") fields.concurrency.control.value = config.concurrency;
      delete config.concurrency;
      provider.value = run.run.providerName.toLowerCase();
      model.value = run.run.modelName;
      datasets.value = run.run.datasetName;
      fields.limit.control.value = run.progress.total;
      const own = Object.fromEntries(PROVIDER_FIELDS[provider.value]?.fields
        .filter((option) => typeof config[option.key] === "number")
        .map((option) => { const value = config[option.key]; delete config[option.key]; return [option.key, value]; }) ?? []);
      showOptions(own);
      fields.config.control.value = Object.keys(config).length ? JSON.stringify(config) : "";
      fields.labels.control.value = formatLabels(run.run.labels);
    }).catch(notifyError);
  }

  const queue = queuePanel(store);
  replace(root, h("h1", {}, clone ? `Clone run ${clone}` : "New run"), form, queue.node);
  return queue.unmount;
}
