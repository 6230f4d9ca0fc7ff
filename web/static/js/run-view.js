// The run page (`#/runs/<id>`): the run's header and progress, its commands, items
// grouped by state, its log, feedback and exports. While the run is active it
// refreshes from the live stream, at most once a second.
import { canCancel, canRetry, cancelRun, retryRun } from "./actions.js";
import { api } from "./api.js";
import { ProgressBar } from "./bar.js";
import { h, replace } from "./dom.js";
import { duration, elapsedMs, runTitle, timestamp } from "./format.js";
import { feedbackPanel } from "./feedback.js";
import { RunItems } from "./run-items.js";
import { RunLogs } from "./run-logs.js";

const REFRESH_MS = 1000;

function header(detail, bar) {
  const { run, lifecycle, progress } = detail;
  const cancel = h("button", { type: "button", class: "danger", hidden: !canCancel(run),
    onclick: () => cancelRun(cancel, run.id) }, "Cancel");
  const retry = h("button", { type: "button", hidden: !canRetry(run, progress),
    onclick: () => retryRun(retry, run.id) }, "Retry");
  bar.update(progress);
  return h("section", { class: "panel" },
    h("div", { class: "run-head" },
      h("h1", {}, runTitle(run)),
      h("span", { class: "badge", dataset: { status: run.status } }, run.status),
      h("span", { class: "spacer" }),
      h("a", { class: "button", href: api.exportUrl(run.id, "csv"), download: `${run.id}.csv` }, "Export CSV"),
      h("a", { class: "button", href: api.exportUrl(run.id, "jsonl"), download: `${run.id}.jsonl` }, "Export JSONL"),
      cancel, retry),
    h("div", { class: "card-meta" },
      h("span", { class: "mono" }, run.id),
      bar.summary,
      h("span", {}, `created ${timestamp(run.createdAt)}`),
      h("span", {}, `elapsed ${duration(elapsedMs(run))}`),
      lifecycle?.resumedCount ? h("span", {}, `resumed ×${lifecycle.resumedCount}`) : null,
      run.error ? h("span", { class: "error" }, run.error) : null),
    bar.node);
}

export function mountRun(root, { args, store }) {
  const [runId] = args;
  const bar = new ProgressBar();
  const head = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const items = new RunItems(runId);
  const logs = new RunLogs(runId);
  const side = h("aside", {});
  replace(root, head, h("div", { class: "two-col" }, h("div", {}, h("h2", {}, "Items"), items.node),
    h("div", {}, side, logs.node)));

  let live = true;
  let feedbackShown = false;
  async function load() {
    const { body } = await api.run(runId);
    if (!live) return;
    replace(head, header(body, bar));
    if (!feedbackShown) {
      side.append(feedbackPanel(runId, body.run.feedback ?? body.feedback));
      feedbackShown = true;
    }
    await Promise.all([items.refresh(), logs.more()]);
  }
  load().catch((error) => replace(head, h("p", { class: "error" }, error.message)));

  // Refresh on the stream's news of this run, throttled so a busy run costs one fetch a second.
  let timer = 0;
  const unsubscribe = store.subscribe((changes) => {
    if (timer || !(changes.reset || changes.runs.has(runId))) return;
    timer = setTimeout(() => {
      timer = 0;
      if (live) load().catch(() => {});
    }, REFRESH_MS);
  });
  return () => {
    live = false;
    clearTimeout(timer);
    unsubscribe();
  };
}
