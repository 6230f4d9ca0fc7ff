// One run's card on the board. Built once, then updated in place: only the texts,
// widths and attributes that changed are written, so a busy run never flashes.
import { canCancel, canRetry, cancelRun, commandButton, retryRun } from "./actions.js";
import { ProgressBar } from "./bar.js";
import { h, setAttr, setText } from "./dom.js";
import { runTitle } from "./format.js";
import { history, timing } from "./run-facts.js";

const TICKS = 5;

export class RunCard {
  constructor(runId) {
    this.runId = runId;
    this.entry = null;
    this.title = h("a", { class: "card-title", href: `#/runs/${encodeURIComponent(runId)}` });
    this.badge = h("span", { class: "badge" });
    this.bar = new ProgressBar();
    this.elapsed = h("span", { title: "Time" });
    this.rate = h("span", { title: "Items finished per minute" });
    this.resumed = h("span", { class: "resumed", hidden: true });
    this.error = h("p", { class: "error card-error", hidden: true });
    this.prompt = h("div", { class: "prompt" });
    this.preview = h("div", { class: "preview", "aria-live": "off" });
    this.currentLabel = h("span", { class: "muted" });
    this.current = h("div", { class: "current" }, this.currentLabel, this.prompt, this.preview);
    // One image for screen readers, its label listing the items the squares show.
    this.ticks = h("div", { class: "ticks", role: "img", "aria-label": "Latest items: none yet" });
    for (let i = 0; i < TICKS; i += 1) this.ticks.append(h("span", { class: "tick", hidden: true }));
    this.cancel = commandButton("Cancel", { class: "danger", "aria-label": `Cancel ${runId}` },
      (button) => cancelRun(button, this.entry.run));
    this.retry = commandButton("Retry", { "aria-label": `Retry ${runId}` }, (button) => retryRun(button, runId));
    this.node = h("article", { class: "card", dataset: { runId } },
      h("div", { class: "card-head" }, this.title, this.badge),
      h("div", { class: "live-number" }, this.bar.node),
      h("div", { class: "card-meta live-number" }, this.bar.summary, this.elapsed, this.rate, this.resumed),
      this.error,
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
    const said = history(lifecycle);
    this.resumed.hidden = !said;
    setText(this.resumed, said);
    this.error.hidden = !run.error;
    setText(this.error, run.error ?? "");
    // A finished run has no current item worth the space; its ticks tell how it ended.
    this._updateCurrent(canCancel(run) ? entry.currentItem : null, canCancel(run));
    this._updateTicks(entry.recentItems);
    // A command that disappears hands its focus to the card's title, not to <body>.
    const hadFocus = this.node.contains(document.activeElement) ? document.activeElement : null;
    this.cancel.hidden = !canCancel(run);
    this.retry.hidden = !canRetry(run, entry.progress);
    if (hadFocus && hadFocus.hidden) this.title.focus({ preventScroll: true });
    this.tick(Date.now());
  }

  /** Called every second: elapsed time and rate move even when no event arrives. */
  tick(now) {
    if (!this.entry) return;
    const shown = timing(this.entry.run, this.entry.progress, now);
    setText(this.elapsed, shown.elapsed);
    this.rate.hidden = !shown.rate;
    setText(this.rate, shown.rate);
  }

  _updateCurrent(item, active) {
    // An active run keeps the box (empty until its first item), so the card does not
    // grow under the pointer when that item starts.
    this.current.hidden = !active;
    this.current.classList.toggle("idle", !item);
    if (!item) {
      setText(this.currentLabel, active ? "waiting for the first item" : "");
      setText(this.prompt, "");
      setText(this.preview, "");
      return;
    }
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
