// What each provider accepts in a run's `config` (harness/providers/*: OPTIONS), so
// the form offers exactly those fields and its example is one the provider takes.
export const PROVIDER_FIELDS = {
  simulated: {
    model: "sim-1",
    fields: [
      { key: "seed", label: "Seed", step: 1 },
      { key: "accuracy", label: "Accuracy", min: 0, max: 1, step: 0.05, hint: "0–1" },
      { key: "latencyMs", label: "Latency (ms)", min: 0, step: 50 },
      { key: "faultRate", label: "Fault rate", min: 0, max: 1, step: 0.01, hint: "0–1" },
      { key: "chunks", label: "Chunks", min: 1, max: 1000, step: 1 },
    ],
  },
  openai: {
    model: "gpt-4.1-mini",
    fields: [
      { key: "temperature", label: "Temperature", min: 0, max: 2, step: 0.1 },
      { key: "maxTokens", label: "Max tokens", min: 1, step: 1 },
      { key: "timeoutS", label: "Timeout (s)", min: 0.01, max: 3600, step: 1 },
    ],
  },
};
