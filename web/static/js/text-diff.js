// A word-level diff of two texts (longest common subsequence), for showing two runs'
// responses side by side. Long texts are cut to MAX_WORDS words each: the table is
// quadratic, and a reader compares the openings anyway.
import { h } from "./dom.js";

const MAX_WORDS = 1200;

/** [{kind: "same"|"gone"|"new", text}] turning `a` into `b`. */
export function diffWords(a, b) {
  const left = (a ?? "").split(/(\s+)/).slice(0, MAX_WORDS * 2);
  const right = (b ?? "").split(/(\s+)/).slice(0, MAX_WORDS * 2);
  const n = left.length;
  const m = right.length;
  const lengths = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lengths[i][j] = left[i] === right[j] ? lengths[i + 1][j + 1] + 1 : Math.max(lengths[i + 1][j], lengths[i][j + 1]);
    }
  }
  const parts = [];
  const push = (kind, text) => {
    const last = parts[parts.length - 1];
    if (last && last.kind === kind) last.text += text; else parts.push({ kind, text });
  };
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (left[i] === right[j]) { push("same", left[i]); i += 1; j += 1; } else if (lengths[i + 1][j] >= lengths[i][j + 1]) { push("gone", left[i]); i += 1; } else { push("new", right[j]); j += 1; }
  }
  while (i < n) { push("gone", left[i]); i += 1; }
  while (j < m) { push("new", right[j]); j += 1; }
  return parts;
}

/** Two <pre>s: the first marks what only it has (<del>), the second likewise (<ins>). */
export function sideBySide(a, b, labels) {
  const parts = diffWords(a, b);
  const side = (keep, mark, tag) => h("pre", { class: "response diff" },
    parts.filter((p) => p.kind === "same" || p.kind === keep).map((p) => (p.kind === keep ? h(tag, {}, p.text) : p.text)));
  return h("div", { class: "side-by-side" },
    h("div", {}, h("div", { class: "muted" }, labels[0]), side("gone", "gone", "del")),
    h("div", {}, h("div", { class: "muted" }, labels[1]), side("new", "new", "ins")));
}
