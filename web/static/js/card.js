// One run's card on the board. Built once, then updated in place: only the texts,
// widths and attributes that changed are written, so a busy run never flashes.
import { canCancel, canRetry, cancelRun, retryRun } from "./actions.js";
import { ProgressBar } from "./bar.js";
import { h, setAttr, setText } from "./dom.js";
import { duration, elapsedMs, rate, ratePerMinute, runTitle } from "./format.js";

const TICKS = 5;

export class RunCard {
  constructor(runId) {
    this.runId = runId;
    this.entry = null;
    this.title = h("a", { class: "card-title", href: `#/runs/${encodeURIComponent(runId)}` });
    this.badge = h("span", { class: "badge" });
    this.bar = new ProgressBar();
    this.elapsed = h("span", { title: "Elapsed" });
    this.rate = h("span", { title: "Items finished per minute" });
    this.resumed = h("span", { class: "resumed", hidden: true });
    this.prompt = h("div", { class: "prompt" });
    this.preview = h("div", { class: "preview", "aria-live": "off" });
    this.currentLabel = h("span", { class: "muted" });
    this.current = h("div", { class: "current" }, this.currentLabel, this.prompt, this.preview);
    // One image for screen readers, its label listing the items the squares show.
    this.ticks = h("div", { class: "ticks", role: "img", "aria-label": "Latest items: none yet" });
    for (let i = 0; i < TICKS; i += 1) this.ticks.append(h("span", { class: "tick", hidden: true }));
    this.cancel = h("button", { type: "button", class: "danger", onclick: () => cancelRun(this.cancel, runId) },
      "Cancel");
    this.retry = h("button", { type: "button", onclick: () => retryRun(this.retry, runId) }, "Retry");
    this.node = h("article", { class: "card", dataset: { runId } },
      h("div", { class: "card-head" }, this.title, this.badge),
      this.bar.node,
      h("div", { class: "card-meta" }, this.bar.summary, this.elapsed, this.rate, this.resumed),
      this.current,
      h("div", { class: "card-foot" }, this.ticks, h("span", { class: "spacer" }), this.cancel, this.retry));
  }

  update(entry) {
    this.entry = entry;
    const { run, lifecycle } = entry;
    setText(this.title, runTitle(run));
    setText(this.badge, lifecycle.cancelRequestedAt && canCancel(run) ? "canceling" : run.status);
    setAttr(this.badge, "data-status", run.status);
    setAttr(this.node, "data-status", run.status);
    this.bar.update(entry.progress);
    const resumed = lifecycle.resumedCount || 0;
    this.resumed.hidden = resumed === 0;
    setText(this.resumed, `resumed ×${resumed}`);
    // A finished run has no current item worth the space; its ticks tell how it ended.
    this._updateCurrent(canCancel(run) ? entry.currentItem : null);
    this._updateTicks(entry.recentItems);
    this.cancel.hidden = !canCancel(run);
    this.retry.hidden = !canRetry(run, entry.progress);
    this.tick(Date.now());
  }

  /** Called every second: elapsed time and rate move even when no event arrives. */
  tick(now) {
    if (!this.entry) return;
    const ms = elapsedMs(this.entry.run, now);
    setText(this.elapsed, `${duration(ms)} elapsed`);
    setText(this.rate, rate(ratePerMinute(this.entry.progress, ms)));
  }

  _updateCurrent(item) {
    this.current.hidden = !item;
    if (!item) return;
    setText(this.currentLabel, `#${item.sequence} ${item.state === "running" ? "streaming" : item.state}`);
    setAttr(this.current, "data-state", item.state);
    setText(this.prompt, item.promptText ?? "");
    setText(this.preview, item.activity?.preview ?? item.responseText ?? "");
  }

  _updateTicks(items) {
    // Oldest on the left, newest on the right, like a log read top to bottom.
    const shown = items.slice(0, TICKS).reverse();
    setAttr(this.ticks, "aria-label", shown.length
      ? `Latest items: ${shown.map((item) => `#${item.sequence} ${item.state}`).join(", ")}` : "Latest items: none yet");
    [...this.ticks.children].forEach((tick, index) => {
      const item = shown[index];
      tick.hidden = !item;
      if (!item) return;
      setAttr(tick, "data-state", item.state);
      setAttr(tick, "title", `#${item.sequence} ${item.state}${item.answer ? ` (${item.answer})` : ""}`);
    });
  }
}
