// The REST client. Every read returns the body and the log position it reflects
// (X-Harness-Position), which is where the live stream must resume from.

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

async function request(method, path, body) {
  const init = { method, headers: { Accept: "application/json" }, cache: "no-cache" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, "network", `The server did not answer (${error.message})`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok) {
    const error = data && data.error;
    throw new ApiError(response.status, error?.code ?? "http",
      error?.message ?? `${method} ${path} failed with ${response.status}`, error?.details);
  }
  return { body: data, position: response.headers.get("X-Harness-Position") };
}

/** Query string from an object, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

const enc = encodeURIComponent;

export const api = {
  bootstrap: () => request("GET", "/api/data"),
  activeRuns: (limit = 24) => request("GET", `/api/runs/active${query({ limit })}`),
  archive: (filters) => request("GET", `/api/runs${query(filters)}`),
  facets: () => request("GET", "/api/runs/facets"),
  run: (id, at) => request("GET", `/api/runs/${enc(id)}${query({ at })}`),
  items: (id, params = {}) => request("GET", `/api/runs/${enc(id)}/items${query(params)}`),
  history: (id, index) => request("GET", `/api/runs/${enc(id)}/history${query({ index })}`),
  table: (id, params = {}) => request("GET", `/api/runs/${enc(id)}/table${query(params)}`),
  item: (id, sequence, at) => request("GET", `/api/runs/${enc(id)}/items/${sequence}${query({ at })}`),
  stats: (id, at) => request("GET", `/api/runs/${enc(id)}/stats${query({ at })}`),
  logs: (id, params = {}) => request("GET", `/api/runs/${enc(id)}/logs${query(params)}`),
  compare: (ids, baseline) => request("GET", `/api/runs/compare${query({ ids: ids.join(","), baseline })}`),
  datasets: () => request("GET", "/api/datasets"),
  queue: () => request("GET", "/api/queue"),
  exportUrl: (id, format) => `/api/runs/${enc(id)}/export${query({ format })}`,

  createRun: (spec) => request("POST", "/api/runs", spec),
  cancelRun: (id) => request("POST", `/api/runs/${enc(id)}/cancel`),
  retryRun: (id) => request("POST", `/api/runs/${enc(id)}/retry`),
  enqueue: (spec) => request("POST", "/api/queue", spec),
  dequeue: (queueId) => request("DELETE", `/api/queue/${enc(queueId)}`),
  feedback: (runId, rating, comment) => request("POST", "/api/feedback", { runId, rating, comment }),
  buildPack: (spec) => request("POST", "/api/browser-harness/packs", spec),
  importCaptures: (body) => request("POST", "/api/browser-harness/imports", body),
};
