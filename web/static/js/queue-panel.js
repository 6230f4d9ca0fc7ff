// The queue: run specs waiting for a free slot, live from the store, each removable.
import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { timestamp } from "./format.js";
import { notifyError } from "./notify.js";

function queueRow(queued) {
  const spec = queued.spec ?? {};
  const remove = h("button", { type: "button", class: "danger", "aria-label": `Remove ${queued.queueId} from queue` },
    "Remove");
  remove.addEventListener("click", async () => {
    remove.disabled = true;
    try {
      await api.dequeue(queued.queueId);
    } catch (error) {
      notifyError(error);
      remove.disabled = false;
    }
  });
  return h("tr", { dataset: { queueId: queued.queueId } },
    h("td", {}, `${spec.modelName ?? "?"} · ${spec.datasetName ?? "?"} · ${spec.providerName ?? "?"}`),
    h("td", { class: "num" }, spec.limit ?? "all"),
    h("td", { class: "hide-narrow" }, timestamp(queued.enqueuedAt)),
    h("td", {}, remove));
}

export function queuePanel(store) {
  const body = h("tbody");
  const node = h("section", { class: "queue" }, h("h2", {}, "Queue"),
    h("div", { class: "table-wrap" }, h("table", { id: "queue" },
      h("thead", {}, h("tr", {}, h("th", {}, "Run"), h("th", { class: "num" }, "Limit"),
        h("th", { class: "hide-narrow" }, "Queued"), h("th", {}, ""))), body)));
  const render = () => replace(body, store.queue.length ? store.queue.map(queueRow)
    : h("tr", {}, h("td", { colspan: 4, class: "muted" }, "Nothing queued.")));
  render();
  const unsubscribe = store.subscribe((changes) => { if (changes.queue || changes.reset) render(); });
  return { node, unmount: unsubscribe };
}
