// Browser Harness (`#/browser-harness`, SPEC §8): build a signed pack to load into the
// extension, and import the captures it produced as a run.
import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { notify, notifyError } from "./notify.js";

function download(filename, value) {
  const blob = new Blob([JSON.stringify(value, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const anchor = h("a", { href: url, download: filename });
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function packForm() {
  const datasets = h("select", { name: "datasetName", required: true });
  api.datasets().then(({ body }) => replace(datasets, body.map((d) => h("option", { value: d.name }, d.name))))
    .catch(notifyError);
  const form = h("form", { class: "panel form-grid", id: "pack-form" },
    h("label", {}, "Dataset", datasets),
    h("label", {}, "Model", h("input", { name: "modelName", required: true, placeholder: "chat web page model" })),
    h("label", {}, "Provider", h("input", { name: "providerName", value: "browser" })),
    h("label", {}, "Limit", h("input", { name: "limit", type: "number", min: 1, placeholder: "all items" })),
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Build pack")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const limit = data.get("limit");
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;  // a second click would build a second pack
    try {
      const { body } = await api.buildPack({
        datasetName: data.get("datasetName"), modelName: data.get("modelName").trim(),
        providerName: data.get("providerName").trim() || undefined, limit: limit ? Number(limit) : undefined,
      });
      download(`pack-${body.packId}.json`, body);
      notify(`Pack ${body.packId}: ${body.items.length} items`);
    } catch (error) {
      notifyError(error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** Captures come as one file `{pack, captures}`, or as a pack file plus a captures file. */
async function readImport(bundleFile, packFile) {
  const bundle = JSON.parse(await bundleFile.text());
  if (bundle.pack && bundle.captures) return bundle;
  if (!packFile) throw new Error("This file has no pack: choose the pack file too.");
  const captures = Array.isArray(bundle) ? bundle : bundle.captures;
  return { pack: JSON.parse(await packFile.text()), captures };
}

function importForm() {
  const result = h("p", { class: "muted" });
  const form = h("form", { class: "panel form-grid", id: "import-form" },
    h("label", {}, "Captures (JSON)", h("input", { name: "captures", type: "file", accept: ".json,application/json",
      required: true })),
    h("label", {}, "Pack (if not inside the captures file)", h("input", { name: "pack", type: "file",
      accept: ".json,application/json" })),
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Import")), result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const packFile = data.get("pack");
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    replace(result);  // the last import's link must not look like this one's
    try {
      const body = await readImport(data.get("captures"), packFile && packFile.size ? packFile : null);
      const { body: created } = await api.importCaptures(body);
      const run = created.run ?? created;
      replace(result, "Imported as ", h("a", { href: `#/runs/${encodeURIComponent(run.id)}` }, run.id));
    } catch (error) {
      replace(result, h("span", { class: "error" }, error.message));
      notifyError(error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

export function mountBrowserHarness(root) {
  replace(root, h("h1", {}, "Browser Harness"),
    h("p", { class: "muted" }, "Run a dataset in a chat web page with the browser extension: build a signed pack, "
      + "load it in the extension, then import the captured answers. Answer keys never leave the server."),
    h("h2", {}, "Build a pack"), packForm(),
    h("h2", {}, "Import captures"), importForm());
}
