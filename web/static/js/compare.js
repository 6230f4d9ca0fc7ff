// Compare (`#/compare?ids=a,b&baseline=a`): runs on one dataset side by side, each
// measured against a baseline on the items both judged (n and a 95 % interval for the
// change), tabs of the items that regressed, improved or stayed wrong with both
// responses side by side and diffed, and how the runs' configs differ.
import { api } from "./api.js";
import { accuracyBar } from "./bar.js";
import { mountPicker } from "./compare-picker.js";
import { h, replace } from "./dom.js";
import { runTitle } from "./format.js";
import { link } from "./router.js";
import { accuracyWithInterval } from "./run-summary.js";
import { sideBySide } from "./text-diff.js";

const TABS = [
  { key: "regressions", count: "regressions", label: "Regressions", hint: "right in the baseline, wrong here" },
  { key: "improvements", count: "improvements", label: "Improvements", hint: "wrong in the baseline, right here" },
  { key: "bothWrong", count: "bothWrong", label: "Both wrong", hint: "wrong in both" },
];
const SHOWN_PER_TAB = 100;

function points(delta) {
  return `${delta >= 0 ? "+" : "−"}${Math.abs(delta * 100).toFixed(1)}`;
}

function runsTable(runs, baseline, ids) {
  return h("div", { class: "table-wrap stack-narrow" }, h("table", { id: "compare-runs" },
    h("thead", {}, h("tr", {}, h("th", {}, "Run"), h("th", {}, "Accuracy (own items)"), h("th", { class: "num" }, "Judged"),
      h("th", { class: "num" }, "Faulted"), h("th", {}, "Baseline"))),
    h("tbody", {}, runs.map((run) => h("tr", { dataset: { runId: run.id } },
      h("td", { "data-label": "Run" }, h("a", { href: `#/runs/${encodeURIComponent(run.id)}` }, runTitle(run)),
        h("div", { class: "muted mono" }, run.id)),
      h("td", { "data-label": "Accuracy" }, accuracyBar(run.accuracy)),
      h("td", { class: "num", "data-label": "Judged" }, run.judged),
      h("td", { class: "num", "data-label": "Faulted" }, run.counts?.faulted ?? 0),
      h("td", { "data-label": "Baseline" }, run.id === baseline ? h("b", {}, "baseline")
        : h("a", { class: "button", href: link("/compare", { ids: ids.join(","), baseline: run.id }) }, "Make baseline")))))));
}

function configDiff(runs) {
  const keys = [...new Set(runs.flatMap((run) => [...Object.keys(run.config ?? {}), ...Object.keys(run.labels ?? {}).map((k) => `label:${k}`)]))].sort();
  const value = (run, key) => {
    const source = key.startsWith("label:") ? run.labels ?? {} : run.config ?? {};
    const raw = source[key.replace(/^label:/, "")];
    return raw === undefined ? "–" : typeof raw === "string" ? raw : JSON.stringify(raw);
  };
  const rows = keys.map((key) => {
    const values = runs.map((run) => value(run, key));
    return { key, values, differs: new Set(values).size > 1 };
  });
  const fields = [["model", (run) => run.modelName], ["provider", (run) => run.providerName]];
  for (const [key, of] of fields) {
    const values = runs.map(of);
    rows.unshift({ key, values, differs: new Set(values).size > 1 });
  }
  return h("div", { class: "table-wrap" }, h("table", { id: "config-diff" },
    h("thead", {}, h("tr", {}, h("th", {}, "Setting"), runs.map((run) => h("th", { class: "mono" }, run.id)))),
    h("tbody", {}, rows.map((row) => h("tr", { dataset: { differs: String(row.differs) } },
      h("th", { scope: "row" }, row.key, row.differs ? h("span", { class: "tag" }, "differs") : null),
      row.values.map((text) => h("td", { class: "mono" }, text)))))));
}

/** One tab's items: each opens to both runs' responses, side by side and diffed. */
function itemList(pairing, sequences, byId) {
  if (!sequences.length) return h("p", { class: "muted" }, "None.");
  const base = byId.get(pairing.baselineId);
  const other = byId.get(pairing.runId);
  return h("ul", { class: "compare-items" }, sequences.slice(0, SHOWN_PER_TAB).map((sequence) => {
    const body = h("div", { class: "pair-body" }, h("p", { class: "muted" }, "Loading…"));
    const details = h("details", { dataset: { sequence } }, h("summary", {}, `#${sequence}`), body);
    details.addEventListener("toggle", async () => {
      if (!details.open || details.dataset.loaded) return;
      details.dataset.loaded = "1";
      try {
        const [{ body: a }, { body: b }] = await Promise.all([api.item(base.id, sequence), api.item(other.id, sequence)]);
        replace(body, h("pre", { class: "prompt" }, a.item.promptText ?? ""),
          h("p", {}, `expected ${a.item.expected ?? "–"} · baseline answered ${a.item.answer ?? "–"} · `
            + `${other.modelName} answered ${b.item.answer ?? "–"}`),
          sideBySide(a.item.responseText, b.item.responseText, [`${base.id} (baseline)`, other.id]));
      } catch (error) {
        replace(body, h("p", { class: "error" }, error.message));
      }
    });
    return h("li", {}, details);
  }));
}

function pairingPanel(pairing, byId) {
  const other = byId.get(pairing.runId);
  const lists = { regressions: pairing.regressions, improvements: pairing.improvements, bothWrong: pairing.bothWrong };
  const panel = h("div", { class: "tab-panel", role: "tabpanel" });
  const buttons = TABS.map((tab) => h("button", { type: "button", role: "tab", dataset: { tab: tab.key },
    "aria-selected": "false", title: tab.hint }, `${tab.label} (${pairing.counts[tab.count]})`));
  const select = (index) => {
    buttons.forEach((button, i) => {
      button.setAttribute("aria-selected", String(i === index));
      button.tabIndex = i === index ? 0 : -1;
    });
    replace(panel, h("p", { class: "muted" }, TABS[index].hint), itemList(pairing, lists[TABS[index].key], byId));
  };
  buttons.forEach((button, index) => {
    button.addEventListener("click", () => select(index));
    button.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = (index + step + buttons.length) % buttons.length;
      select(next);
      buttons[next].focus();
    });
  });
  select(0);
  const delta = pairing.delta === null ? "–"
    : `${points(pairing.delta)} pts (95% CI ${points(pairing.deltaInterval.low)} to ${points(pairing.deltaInterval.high)})`;
  return h("section", { class: "panel pairing", dataset: { runId: pairing.runId } },
    h("h2", {}, `${other.modelName} vs the baseline`, h("div", { class: "muted mono" }, pairing.runId)),
    h("dl", { class: "facts" },
      h("dt", {}, "Shared judged items"), h("dd", { class: "shared-n" }, `n = ${pairing.shared}`),
      h("dt", {}, "Baseline on them"), h("dd", { class: "shared-baseline" },
        accuracyWithInterval(pairing.baselineAccuracy, pairing.baselineInterval, pairing.shared)),
      h("dt", {}, "This run on them"), h("dd", { class: "shared-accuracy" },
        accuracyWithInterval(pairing.accuracy, pairing.interval, pairing.shared)),
      h("dt", {}, "Change"), h("dd", { class: "shared-delta" }, delta)),
    h("div", { class: "tabs", role: "tablist", "aria-label": `Items of ${pairing.runId} against the baseline` }, buttons),
    panel);
}

function results(root, ids, baseline) {
  const heading = h("h1", {}, "Compare");
  const content = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  replace(root, h("div", { class: "row" }, heading, h("span", { class: "spacer" }),
    h("a", { class: "button", href: "#/compare" }, "Pick other runs")), content);
  api.compare(ids, baseline).then(({ body }) => {
    const byId = new Map(body.runs.map((run) => [run.id, run]));
    const base = byId.get(body.baseline);
    replace(content,
      runsTable(body.runs, body.baseline, ids),
      h("p", { class: "muted", id: "baseline-note" }, `Baseline: ${runTitle(base)} (${base.id}). `,
        "Accuracies below are on the items both runs judged, so they compare like with like."),
      body.pairings.map((pairing) => pairingPanel(pairing, byId)),
      h("h2", {}, "Config"), configDiff(body.runs),
      h("h2", {}, `Disagreements (${body.disagreements.length}${body.truncated ? "+" : ""})`),
      body.truncated ? h("p", { class: "muted", id: "truncated" },
        `Only the first ${body.disagreements.length} disagreements are listed.`) : null,
      disagreementsTable(body));
  }).catch((error) => replace(content, h("p", { class: "error" }, error.message),
    h("a", { class: "button", href: "#/compare" }, "Pick runs")));
}

function answerCell(answer) {
  if (!answer) return h("td", { class: "muted" }, "–");
  const text = answer.answer ?? answer.state;
  return h("td", { class: "answer", dataset: { correct: answer.correct === null || answer.correct === undefined
    ? "" : String(answer.correct) } }, answer.correct === true ? `✓ ${text}` : answer.correct === false ? `✗ ${text}` : text);
}

function disagreementsTable(body) {
  const runs = body.runs;
  return h("div", { class: "table-wrap" }, h("table", { id: "disagreements" },
    h("thead", {}, h("tr", {}, h("th", { class: "num" }, "#"), h("th", { class: "prompt-cell" }, "Prompt"),
      h("th", {}, "Expected"), runs.map((run) => h("th", {}, run.modelName, h("div", { class: "muted mono" }, run.id))))),
    h("tbody", {}, body.disagreements.length
      ? body.disagreements.map((row) => h("tr", {}, h("td", { class: "num" }, row.sequence),
        h("td", { class: "prompt-cell prompt" }, row.promptText ?? ""),
        h("td", { class: "expected" }, row.expected ?? "–"), runs.map((run) => answerCell(row.answers[run.id]))))
      : h("tr", {}, h("td", { colspan: runs.length + 3, class: "muted" }, "The runs agree on every item.")))));
}

export function mountCompare(root, { params }) {
  const ids = (params.get("ids") ?? "").split(",").map((id) => id.trim()).filter(Boolean);
  if (ids.length >= 2) results(root, ids, params.get("baseline"));
  else mountPicker(root);
}

