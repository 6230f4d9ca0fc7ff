// The run page (`#/runs/<id>`, `#/runs/<id>/items/<n>` with an item's drawer open):
// header, summary with charts, the items streaming now, the items table, the log,
// feedback. Nothing is rebuilt once shown: the header is patched from the live stream;
// the counts, figures, table page and new log lines are fetched at most once a second
// while the run has news.
import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { feedbackPanel } from "./feedback.js";
import { ItemDrawer } from "./item-drawer.js";
import { link, navigate } from "./router.js";
import { RunHeader } from "./run-header.js";
import { RunLogs } from "./run-logs.js";
import { RunReplay } from "./run-replay.js";
import { RunSummary } from "./run-summary.js";
import { RunTable } from "./run-table.js";
import { RunningNow } from "./running-now.js";
import { isActive } from "./store.js";

const REFRESH_MS = 1000;

export function mountRun(root, { args, params, store }) {
  const [runId, openItem] = args;
  const runPath = `/runs/${encodeURIComponent(runId)}`;
  // Item links and closing the drawer keep the table's query (it is in the URL).
  let table = null;
  const itemPath = (sequence) => `${runPath}/items/${sequence}`;
  let path = openItem ? itemPath(openItem) : runPath;
  let query = params; // the URL's parameters: the items table's query
  const itemLink = (sequence) => link(itemPath(sequence), table.params());
  const head = new RunHeader(runId);
  const summary = new RunSummary(runId, { itemLink });
  const running = new RunningNow(runId);
  table = new RunTable(runId, { itemLink, go: (query) => navigate(path, query) });
  const drawer = new ItemDrawer(runId, { onClose: () => navigate(runPath, table.params()) });
  const logs = new RunLogs(runId);
  const side = h("aside", { class: "side" });
  // While a past point is shown, the live stream does not touch the page.
  let replayAt = null;
  const replay = new RunReplay(runId, { show: (at) => showAt(at) });
  replace(root, head.node, replay.node, summary.node, running.node,
    h("div", { class: "two-col" }, h("div", {}, table.node), h("div", {}, side, logs.node)), drawer.node);

  let live = true;
  let loaded = false;
  async function showAt(at) {
    replayAt = at;
    table.at = at;
    drawer.at = at;
    root.classList.toggle("replaying", at !== null);
    running.node.classList.toggle("replay-hidden", at !== null);
    const [{ body }, { body: stats }] = await Promise.all([api.run(runId, at), api.stats(runId, at)]);
    if (!live || replayAt !== at) return;
    head.update(body);
    summary.update(body, stats);
    await Promise.all([logs.reset(at), table.refresh(), drawer.refresh()]);
  }
  async function sync() {
    if (replayAt) return;
    const [{ body }, { body: stats }] = await Promise.all([api.run(runId), api.stats(runId)]);
    if (!live || replayAt) return;
    head.update(body);
    summary.update(body, stats);
    await Promise.all([logs.more(), table.refresh(), drawer.refresh()]);
  }
  async function load() {
    const [{ body }, { body: stats }] = await Promise.all([api.run(runId), api.stats(runId)]);
    if (!live) return;
    head.update(body);
    summary.update(body, stats);
    side.append(feedbackPanel(runId, body.run.feedback ?? body.feedback));
    await Promise.all([table.follow(query), logs.more(), running.load()]);
    loaded = true;
  }
  load().catch((error) => {
    if (!live) return;
    replace(head.node, h("h1", {}, runId), h("p", { class: "error" }, error.message));
    replace(table.body, h("tr", {}, h("td", { class: "error" }, error.status === 404 ? "No such run." : "Items unavailable.")));
    summary.node.hidden = true;
    logs.node.hidden = true;
  });
  if (openItem) drawer.open(Number(openItem));

  const unwatch = store.watchItems(runId, (updates) => updates.forEach((update) => running.take(update)));
  // The store's snapshot is the freshest header; the rest follows, throttled.
  let timer = 0;
  const unsubscribe = store.subscribe((changes) => {
    if (!(changes.reset || changes.runs.has(runId))) return;
    const entry = store.runs.get(runId);
    if (loaded && !replayAt && entry && !entry.stub && entry.progress) head.update(entry);
    if (timer) return;
    timer = setTimeout(() => {
      timer = 0;
      if (live && loaded) sync().catch(() => {});
    }, REFRESH_MS);
  });
  const clock = setInterval(() => {
    if (!replayAt && head.snapshot && isActive(head.snapshot.run)) head.tick(Date.now());
  }, 1000);
  return {
    update(next, [, item]) {
      path = item ? itemPath(item) : runPath;
      query = next;
      if (item) drawer.open(Number(item));
      else drawer.close();
      if (loaded) table.follow(next).catch(() => {});
    },
    unmount() {
      live = false;
      root.classList.remove("replaying");
      clearTimeout(timer);
      clearInterval(clock);
      summary.destroy();
      unwatch();
      unsubscribe();
    },
  };
}
