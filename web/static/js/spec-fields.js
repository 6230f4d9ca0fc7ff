// The free-form fields of a run spec, parsed in the browser so a typo is pointed out
// next to the field instead of coming back as a 422.

/** `{"seed": 1}` -> object; "" -> {}. Throws with a message a user can act on. */
export function parseConfig(text) {
  if (!text.trim()) return {};
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`Config is not valid JSON: ${error.message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error("Config must be a JSON object, like {\"seed\": 1}.");
  }
  return value;
}

/** "team=evals, suite=nightly" -> {team: "evals", suite: "nightly"}. */
export function parseLabels(text) {
  const labels = {};
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const at = part.indexOf("=");
    if (at <= 0) throw new Error(`Label "${part}" is not key=value.`);
    labels[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return labels;
}
