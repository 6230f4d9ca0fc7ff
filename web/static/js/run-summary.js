// A run's summary (`GET /api/runs/{id}/stats` and the run detail): what it was asked to
// do (config, labels), what it cost (tokens), how fast (latency p50/p95, throughput),
// what it cost in money (only when its model is priced in `prices.json`), how well (accuracy with its Wilson 95 % interval), what went wrong (faults grouped by
// message), and three small charts.
import { accuracyChart, histogramChart } from "./charts.js";
import { h, replace } from "./dom.js";
import { latency, money, percent } from "./format.js";

const number = new Intl.NumberFormat();

/** "72.0% (95% CI 61.3–80.7%, n = 75)". */
export function accuracyWithInterval(accuracy, interval, n) {
  if (accuracy === null || accuracy === undefined) return "–";
  const range = interval ? ` (95% CI ${percent(interval.low).replace("%", "")}–${percent(interval.high)}` : " (";
  return `${percent(accuracy)}${range}, n = ${number.format(n)})`;
}

function entries(object) {
  const pairs = Object.entries(object ?? {});
  if (!pairs.length) return h("span", { class: "muted" }, "none");
  return h("span", { class: "pairs" }, pairs.map(([key, value]) =>
    h("code", { class: "pair" }, `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)));
}

/** Nothing when the model has no price: a cost is never guessed. */
function costFact(stats) {
  if (stats.costProblem) return fact("Cost", stats.costProblem, { id: "summary-cost", class: "error" });
  const cost = stats.cost;
  if (!cost) return [];
  const price = `at ${money(cost.price.inputPerMillion, cost.currency)} / ${money(cost.price.outputPerMillion, cost.currency)} per million tokens in / out`;
  return fact("Cost", [`${money(cost.total, cost.currency)} `,
    h("span", { class: "muted", title: price }, `(${money(cost.input, cost.currency)} in / ${money(cost.output, cost.currency)} out)`),
    partialUsage(stats)],
  { id: "summary-cost", class: "live-number" });
}

/** Tokens and cost count only the answers that reported usage: say so when some did not. */
function partialUsage(stats) {
  if (stats.usageItems >= stats.answeredItems) return null;
  return h("span", { class: "muted partial-usage" },
    ` — usage from ${number.format(stats.usageItems)} of ${number.format(stats.answeredItems)} answered items`);
}

function fact(label, value, attrs = {}) {
  return [h("dt", {}, label), h("dd", attrs, value)];
}

export class RunSummary {
  /** `itemLink(sequence)`: the permalink of an item (opens the drawer). */
  constructor(runId, { itemLink }) {
    this.runId = runId;
    this.itemLink = itemLink;
    this.charts = [];
    this.facts = h("dl", { class: "facts" });
    this.faults = h("div", { class: "faults" });
    this.chartRow = h("div", { class: "charts" });
    this.node = h("section", { class: "panel run-summary", id: "run-summary", "aria-labelledby": "summary-title" },
      h("h2", { id: "summary-title" }, "Summary"), this.facts, this.faults, this.chartRow);
    this.chartKey = "";
  }

  /** `detail`: the run detail (config, labels); `stats`: the run's figures. */
  update(detail, stats) {
    const tokensIn = stats.promptTokens;
    const tokensOut = stats.completionTokens;
    replace(this.facts,
      fact("Config", entries(detail.config), { id: "summary-config" }),
      fact("Labels", entries(detail.run.labels), { id: "summary-labels" }),
      fact("Accuracy", accuracyWithInterval(stats.accuracy, stats.accuracyInterval, stats.judged),
        { id: "summary-accuracy", class: "live-number" }),
      fact("Tokens in / out", tokensIn || tokensOut ? [`${number.format(tokensIn)} / ${number.format(tokensOut)}`, partialUsage(stats)] : "–",
        { id: "summary-tokens", class: "live-number" }),
      costFact(stats),
      fact("Latency p50 / p95", `${latency(stats.latencyP50Ms)} / ${latency(stats.latencyP95Ms)}`,
        { id: "summary-latency", class: "live-number" }),
      fact("Throughput", stats.itemsPerMinute ? `${stats.itemsPerMinute.toFixed(1)} items/min` : "–",
        { id: "summary-throughput", class: "live-number" }));
    replace(this.faults, stats.faults.length ? [
      h("h3", {}, "Faults"),
      h("ul", { id: "fault-groups" }, stats.faults.map((group) => h("li", {},
        h("b", {}, `${number.format(group.count)} ×`), " ", group.message, " ",
        h("span", { class: "muted" }, "e.g. "),
        group.sequences.map((sequence) => [h("a", { href: this.itemLink(sequence), onclick: (event) => this._follow(event, sequence) },
          `#${sequence}`), " "])))),
    ] : []);
    this._charts(stats);
  }

  /** The link as it is now: the table's query may have changed since it was drawn. */
  _follow(event, sequence) {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    location.hash = this.itemLink(sequence);
  }

  _charts(stats) {
    // Redraw only when the figures changed: a live run asks every few seconds.
    const key = JSON.stringify([stats.latencyHistogram, stats.scoreHistogram, stats.accuracyOverTime]);
    if (key === this.chartKey) return;
    this.chartKey = key;
    this.destroy();
    if (stats.latencyHistogram) this.charts.push(histogramChart("chart-latency", "Latency", stats.latencyHistogram, "ms"));
    if (stats.scoreHistogram) this.charts.push(histogramChart("chart-score", "Judge score", stats.scoreHistogram, "score"));
    if (stats.accuracyOverTime.length > 1) {
      this.charts.push(accuracyChart("chart-accuracy", "Accuracy over time", stats.accuracyOverTime));
    }
    replace(this.chartRow, this.charts.map((chart) => chart.node));
  }

  destroy() {
    for (const chart of this.charts) chart.destroy();
    this.charts = [];
  }
}
