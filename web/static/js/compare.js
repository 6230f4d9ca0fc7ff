// Compare (`#/compare?ids=a,b`): pick two or more runs on the same dataset, see their
// accuracy side by side and the items on which their answers differ.
import { api } from "./api.js";
import { accuracyBar } from "./bar.js";
import { mountPicker } from "./compare-picker.js";
import { h, replace } from "./dom.js";
import { runTitle } from "./format.js";

function answerCell(answer) {
  if (!answer) return h("td", { class: "muted" }, "–");
  const text = answer.answer ?? answer.state;
  return h("td", { class: "answer", dataset: { correct: answer.correct === null || answer.correct === undefined
    ? "" : String(answer.correct) } }, answer.correct === true ? `✓ ${text}` : answer.correct === false ? `✗ ${text}` : text);
}

function results(root, ids) {
  replace(root, h("h1", {}, "Compare"), h("p", { class: "muted" }, "Loading…"));
  api.compare(ids).then(({ body }) => {
    const runs = body.runs;
    const summary = h("div", { class: "table-wrap" }, h("table", { id: "compare-runs" },
      h("thead", {}, h("tr", {}, h("th", {}, "Run"), h("th", {}, "Accuracy"), h("th", { class: "num" }, "Correct"),
        h("th", { class: "num" }, "Incorrect"), h("th", { class: "num" }, "Faulted"))),
      h("tbody", {}, runs.map((run) => h("tr", {},
        h("td", {}, h("a", { href: `#/runs/${encodeURIComponent(run.id)}` }, runTitle(run)),
          h("div", { class: "muted mono" }, run.id)),
        h("td", {}, accuracyBar(run.accuracy)),
        h("td", { class: "num" }, run.counts?.correct ?? 0),
        h("td", { class: "num" }, run.counts?.incorrect ?? 0),
        h("td", { class: "num" }, run.counts?.faulted ?? 0))))));
    const disagreements = h("div", { class: "table-wrap" }, h("table", { id: "disagreements" },
      h("thead", {}, h("tr", {}, h("th", { class: "num" }, "#"), h("th", { class: "prompt-cell" }, "Prompt"),
        h("th", {}, "Expected"), runs.map((run) => h("th", {}, run.modelName, h("div", { class: "muted mono" }, run.id))))),
      h("tbody", {}, body.disagreements.length
        ? body.disagreements.map((row) => h("tr", {}, h("td", { class: "num" }, row.sequence),
          h("td", { class: "prompt-cell prompt" }, row.promptText ?? ""),
          h("td", { class: "expected" }, row.expected ?? "–"), runs.map((run) => answerCell(row.answers[run.id]))))
        : h("tr", {}, h("td", { colspan: runs.length + 3, class: "muted" }, "The runs agree on every item.")))));
    replace(root, h("div", { class: "row" }, h("h1", {}, "Compare"), h("span", { class: "spacer" }),
      h("a", { class: "button", href: "#/compare" }, "Pick other runs")),
    summary, h("h2", {}, `Disagreements (${body.disagreements.length}${body.truncated ? "+" : ""})`),
    body.truncated ? h("p", { class: "muted", id: "truncated" },
      `Only the first ${body.disagreements.length} disagreements are listed.`) : null,
    disagreements);
  }).catch((error) => replace(root, h("h1", {}, "Compare"), h("p", { class: "error" }, error.message),
    h("a", { class: "button", href: "#/compare" }, "Pick runs")));
}

export function mountCompare(root, { params }) {
  const ids = (params.get("ids") ?? "").split(",").map((id) => id.trim()).filter(Boolean);
  if (ids.length >= 2) results(root, ids);
  else mountPicker(root);
}
