// The run page's header: title, status, commands, progress. Built once and updated in
// place, so a button keeps its focus while the run progresses.
import { canCancel, canRetry, cancelRun, commandButton, retryRun } from "./actions.js";
import { api } from "./api.js";
import { ProgressBar } from "./bar.js";
import { h, setAttr, setText } from "./dom.js";
import { runTitle, timestamp } from "./format.js";
import { history, timing } from "./run-facts.js";

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
    this.cancel = commandButton("Cancel", { class: "danger", hidden: "" },
      (button) => cancelRun(button, this.snapshot.run));
    this.retry = commandButton("Retry", { hidden: "" }, (button) => retryRun(button, runId));
    this.created = h("span");
    this.elapsed = h("span");
    this.rate = h("span");
    this.resumed = h("span", { hidden: true });
    this.error = h("p", { class: "error run-error", hidden: true });
    this.node = h("section", { class: "panel run-header" },
      h("div", { class: "run-head" }, this.title, this.badge, h("span", { class: "spacer" }),
        h("div", { class: "row commands" },
          h("a", { class: "button", href: api.exportUrl(runId, "csv"), download: `${runId}.csv` }, "Export CSV"),
          h("a", { class: "button", href: api.exportUrl(runId, "jsonl"), download: `${runId}.jsonl` }, "Export JSONL"),
          h("a", { class: "button", href: `#/new?clone=${encodeURIComponent(runId)}` }, "Clone run"),
          this.cancel, this.retry)),
      h("div", { class: "card-meta live-number" }, h("span", { class: "mono" }, runId), this.bar.summary,
        this.created, this.elapsed, this.rate, this.resumed),
      this.error,
      h("div", { class: "live-number" }, this.bar.node));
  }

  /** `snapshot`: {run, lifecycle, progress} from the run detail or the live store. */
  update(snapshot) {
    this.snapshot = snapshot;
    const { run, lifecycle, progress } = snapshot;
    setText(this.title, runTitle(run));
    document.title = `${runTitle(run)} · ${run.id} · Harness`;
    setText(this.badge, shownStatus(run, lifecycle));
    setAttr(this.badge, "data-status", run.status);
    if (progress) this.bar.update(progress);
    this.cancel.hidden = !canCancel(run);
    this.retry.hidden = !canRetry(run, progress);
    setText(this.created, `created ${timestamp(run.createdAt)}`);
    const said = history(lifecycle);
    this.resumed.hidden = !said;
    setText(this.resumed, said);
    this.error.hidden = !run.error;
    setText(this.error, run.error ? `Failed: ${run.error}` : "");
    this.tick(Date.now());
  }

  /** Called every second while the run is active. */
  tick(now) {
    if (!this.snapshot) return;
    const shown = timing(this.snapshot.run, this.snapshot.progress, now);
    setText(this.elapsed, shown.elapsed);
    this.rate.hidden = !shown.rate;
    setText(this.rate, shown.rate);
  }
}
