// The run page (`#/runs/<id>`): header, items grouped by state, log, feedback and
// exports. Nothing is rebuilt once shown: the header and items are patched from the
// live stream (item messages carry each item's whole state), and the per-state counts
// and new log lines are fetched at most once a second while the run has news.
import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { feedbackPanel } from "./feedback.js";
import { RunHeader } from "./run-header.js";
import { RunItems } from "./run-items.js";
import { RunLogs } from "./run-logs.js";
import { isActive } from "./store.js";

const REFRESH_MS = 1000;

export function mountRun(root, { args, store }) {
  const [runId] = args;
  const head = new RunHeader(runId);
  const items = new RunItems(runId);
  const logs = new RunLogs(runId);
  const side = h("aside", { class: "side" });
  replace(root, head.node, h("div", { class: "two-col" }, h("div", {}, h("h2", {}, "Items"), items.node),
    h("div", {}, side, logs.node)));

  let live = true;
  let loaded = false;
  async function sync() {
    const { body } = await api.run(runId);
    if (!live) return;
    head.update(body);
    items.setCounts(body.counts ?? {});
    await logs.more();
  }
  async function load() {
    const { body } = await api.run(runId);
    if (!live) return;
    head.update(body);
    side.append(feedbackPanel(runId, body.run.feedback ?? body.feedback));
    await Promise.all([items.load(), logs.more()]);
    items.setCounts(body.counts ?? {});
    loaded = true;
  }
  load().catch((error) => {
    if (!live) return;
    replace(head.node, h("h1", {}, runId), h("p", { class: "error" }, error.message));
    items.fail(error.status === 404 ? "No such run." : "Items unavailable.");
    logs.node.hidden = true;
  });

  const unwatch = store.watchItems(runId, (changed) => changed.forEach((item) => items.put(item)));
  // The store's snapshot is the freshest header; counts and the log follow, throttled.
  let timer = 0;
  const unsubscribe = store.subscribe((changes) => {
    if (!(changes.reset || changes.runs.has(runId))) return;
    const entry = store.runs.get(runId);
    if (loaded && entry && !entry.stub && entry.progress) head.update(entry);
    if (timer) return;
    timer = setTimeout(() => {
      timer = 0;
      if (live && loaded) sync().catch(() => {});
    }, REFRESH_MS);
  });
  const clock = setInterval(() => {
    if (head.snapshot && isActive(head.snapshot.run)) head.tick(Date.now());
  }, 1000);
  return () => {
    live = false;
    clearTimeout(timer);
    clearInterval(clock);
    unwatch();
    unsubscribe();
  };
}
