// Numbers and times as an eval engineer reads them.

export function parseTime(text) {
  if (!text) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/** 450 -> "450 ms"; 75_000 -> "1m 15s"; 3_600_000 -> "1h 0m". */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** Milliseconds a run has been (or was) running, measured against `now`. */
export function elapsedMs(run, now = Date.now()) {
  const start = parseTime(run.startedAt) ?? parseTime(run.createdAt);
  if (start === null) return null;
  const end = parseTime(run.finishedAt) ?? now;
  return Math.max(0, end - start);
}

/** Items finished per minute: answered, judged or faulted; null before any is. */
export function ratePerMinute(progress, ms) {
  if (!progress || !ms || ms <= 0) return null;
  const done = progress.total - progress.pending;
  return done ? (done / ms) * 60_000 : null;
}

export function rate(perMinute) {
  if (perMinute === null || perMinute === undefined) return "–";
  return perMinute >= 10 ? `${Math.round(perMinute)}/min` : `${perMinute.toFixed(1)}/min`;
}

export function percent(fraction) {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return "–";
  return `${(fraction * 100).toFixed(1)}%`;
}

/** Accuracy over judged items; null when none is judged yet. */
export function accuracyOf(progress) {
  if (!progress || !progress.completed) return null;
  return progress.correct / progress.completed;
}

export function timestamp(text) {
  const ms = parseTime(text);
  if (ms === null) return "–";
  return new Date(ms).toLocaleString(undefined, {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

export function clockTime(text) {
  const ms = parseTime(text);
  if (ms === null) return "";
  return new Date(ms).toLocaleTimeString(undefined, { hour12: false });
}

export function latency(ms) {
  if (ms === null || ms === undefined) return "–";
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return ms >= 100 ? `${Math.round(ms)} ms` : `${Number(ms.toFixed(1))} ms`;
}

export function runTitle(run) {
  return `${run.modelName} · ${run.datasetName} · ${run.providerName}`;
}

/** 0.2213 EUR -> "€0.22"; amounts under a cent keep two significant digits ("$0.00042"). */
export function money(amount, currency) {
  const small = amount !== 0 && Math.abs(amount) < 0.01;
  return new Intl.NumberFormat(undefined, { style: "currency", currency,
    ...(small ? { maximumSignificantDigits: 2 } : {}) }).format(amount);
}
