// A run's log lines and lifecycle events (`GET /api/runs/{id}/logs`), followed
// incrementally with `after`.
import { api } from "./api.js";
import { h } from "./dom.js";
import { clockTime } from "./format.js";

const PAGE_SIZE = 500;

function logLine(entry) {
  return h("div", { class: "log-line", dataset: { level: entry.level } },
    h("span", { class: "muted" }, clockTime(entry.ts)),
    h("span", {}, entry.kind === "log" ? entry.level : entry.kind),
    h("span", {}, entry.sequence ? `#${entry.sequence} ${entry.message}` : entry.message));
}

export class RunLogs {
  constructor(runId) {
    this.runId = runId;
    this.after = 0;
    this.at = null; // a cursor while the page replays the run's history
    this.list = h("div", { class: "logs", role: "log", "aria-label": "Run log" });
    this.node = h("section", {}, h("h2", {}, "Log"), this.list);
  }

  /** Show the log as it was at cursor `at` (or as it is, with null). */
  async reset(at) {
    this.at = at;
    this.after = 0;
    this.list.replaceChildren();
    await this.more();
  }

  /** Fetch the entries after the last one shown and append them. */
  async more() {
    let received;
    do {
      const { body } = await api.logs(this.runId, { after: this.after, limit: PAGE_SIZE, at: this.at });
      const atBottom = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 4;
      this.list.append(...body.entries.map(logLine));
      if (atBottom) this.list.scrollTop = this.list.scrollHeight;
      // Entries are numbered from 1; `after` is the number of the last one shown.
      if (body.entries.length) this.after = body.entries[body.entries.length - 1].index;
      received = body.entries.length;
    } while (received === PAGE_SIZE);
  }
}
