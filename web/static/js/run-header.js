// The run page's header: title, status, commands, progress. Built once and updated in
// place, so a button keeps its focus while the run progresses.
import { canCancel, canRetry, cancelRun, retryRun } from "./actions.js";
import { api } from "./api.js";
import { ProgressBar } from "./bar.js";
import { h, setAttr, setText } from "./dom.js";
import { duration, elapsedMs, runTitle, timestamp } from "./format.js";

/** A run's status as a user should read it: a running run asked to stop is "canceling". */
export function shownStatus(run, lifecycle) {
  return lifecycle?.cancelRequestedAt && canCancel(run) ? "canceling" : run.status;
}

export class RunHeader {
  constructor(runId) {
    this.runId = runId;
    this.snapshot = null;
    this.bar = new ProgressBar();
    this.title = h("h1", {}, runId);
    this.badge = h("span", { class: "badge" }, "loading");
    this.cancel = h("button", { type: "button", class: "danger", hidden: true,
      onclick: () => cancelRun(this.cancel, runId) }, "Cancel");
    this.retry = h("button", { type: "button", hidden: true, onclick: () => retryRun(this.retry, runId) }, "Retry");
    this.created = h("span");
    this.elapsed = h("span");
    this.resumed = h("span", { hidden: true });
    this.error = h("span", { class: "error", hidden: true });
    this.node = h("section", { class: "panel run-header" },
      h("div", { class: "run-head" }, this.title, this.badge, h("span", { class: "spacer" }),
        h("a", { class: "button", href: api.exportUrl(runId, "csv"), download: `${runId}.csv` }, "Export CSV"),
        h("a", { class: "button", href: api.exportUrl(runId, "jsonl"), download: `${runId}.jsonl` }, "Export JSONL"),
        this.cancel, this.retry),
      h("div", { class: "card-meta" }, h("span", { class: "mono" }, runId), this.bar.summary,
        this.created, this.elapsed, this.resumed, this.error),
      this.bar.node);
  }

  /** `snapshot`: {run, lifecycle, progress} from the run detail or the live store. */
  update(snapshot) {
    this.snapshot = snapshot;
    const { run, lifecycle, progress } = snapshot;
    setText(this.title, runTitle(run));
    setText(this.badge, shownStatus(run, lifecycle));
    setAttr(this.badge, "data-status", run.status);
    if (progress) this.bar.update(progress);
    this.cancel.hidden = !canCancel(run);
    this.retry.hidden = !canRetry(run, progress);
    setText(this.created, `created ${timestamp(run.createdAt)}`);
    this.resumed.hidden = !lifecycle?.resumedCount;
    setText(this.resumed, `resumed ×${lifecycle?.resumedCount ?? 0}`);
    this.error.hidden = !run.error;
    setText(this.error, run.error ?? "");
    this.tick(Date.now());
  }

  /** Called every second while the run is active. */
  tick(now) {
    if (this.snapshot) setText(this.elapsed, `elapsed ${duration(elapsedMs(this.snapshot.run, now))}`);
  }
}
