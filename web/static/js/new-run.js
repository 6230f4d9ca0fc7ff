// New run (`#/new`): start a run now (`POST /api/runs`) or queue it (`POST /api/queue`).
import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { notify, notifyError } from "./notify.js";
import { queuePanel } from "./queue-panel.js";
import { navigate } from "./router.js";
import { parseConfig, parseLabels } from "./spec-fields.js";

const PROVIDERS = ["simulated", "openai"];

/** A field with its own error line, filled by `check` or cleared. */
function checkedField(label, control) {
  const message = h("span", { class: "error field-error", id: `${control.name}-error`, role: "alert" });
  control.setAttribute("aria-describedby", message.id);
  const check = (parse) => {
    try {
      const value = parse(control.value);
      message.textContent = "";
      control.removeAttribute("aria-invalid");
      return value;
    } catch (error) {
      message.textContent = error.message;
      control.setAttribute("aria-invalid", "true");
      return undefined;
    }
  };
  return { node: h("label", { class: "wide" }, label, control, message), control, check };
}

function numberOrUndefined(value) {
  return value === "" || value === null ? undefined : Number(value);
}

export function mountNewRun(root, { store }) {
  const datasets = h("select", { name: "datasetName", required: true }, h("option", { value: "" }, "Loading…"));
  const config = checkedField("Config (JSON, optional)", h("textarea", { name: "config", rows: 3,
    placeholder: '{"seed": 1, "temperature": 0}', spellcheck: "false" }));
  const labels = checkedField("Labels (key=value, comma-separated)", h("input", { name: "labels",
    placeholder: "team=evals, suite=nightly", autocomplete: "off" }));
  const form = h("form", { class: "panel form-grid", id: "new-run", "aria-label": "New run" },
    h("label", {}, "Provider", h("select", { name: "providerName" },
      PROVIDERS.map((name) => h("option", { value: name }, name)))),
    h("label", {}, "Model", h("input", { name: "modelName", required: true, value: "sim-1",
      autocomplete: "off" })),
    h("label", {}, "Dataset", datasets),
    h("label", {}, "Limit", h("input", { name: "limit", type: "number", min: 1, placeholder: "all items" })),
    h("label", {}, "Concurrency", h("input", { name: "concurrency", type: "number", min: 1, max: 64, value: 4 })),
    config.node, labels.node,
    h("label", { class: "inline" }, h("input", { name: "queue", type: "checkbox" }), "Queue it instead"),
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Start run")));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const parsedConfig = config.check(parseConfig);
    const parsedLabels = labels.check(parseLabels);
    if (parsedConfig === undefined) { config.control.focus(); return; }
    if (parsedLabels === undefined) { labels.control.focus(); return; }
    const spec = {
      providerName: data.get("providerName"),
      modelName: data.get("modelName").trim(),
      datasetName: data.get("datasetName"),
      limit: numberOrUndefined(data.get("limit")),
      concurrency: numberOrUndefined(data.get("concurrency")),
      config: parsedConfig,
      labels: parsedLabels,
    };
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      if (data.get("queue")) {
        await api.enqueue(spec);
        notify("Queued");
      } else {
        const { body } = await api.createRun(spec);
        notify(`Started ${body.run.id}`);
        navigate("/");
      }
    } catch (error) {
      notifyError(error);
    } finally {
      submit.disabled = false;
    }
  });

  api.datasets().then(({ body }) => {
    replace(datasets, body.map((d) => h("option", { value: d.name }, `${d.name} (${d.size} items, ${d.source})`)));
  }).catch((error) => {
    replace(datasets, h("option", { value: "" }, "unavailable"));
    notifyError(error);
  });

  const queue = queuePanel(store);
  replace(root, h("h1", {}, "New run"), form, queue.node);
  return queue.unmount;
}
