// Words for a run's timing and history that the board's cards and the run page share.
import { duration, elapsedMs, rate, ratePerMinute } from "./format.js";
import { isActive } from "./store.js";

/** "12s elapsed · 40/min" while it runs; "took 1m 3s" once it has finished. */
export function timing(run, progress, now = Date.now()) {
  const ms = elapsedMs(run, now);
  if (!isActive(run)) return { elapsed: `took ${duration(ms)}`, rate: "" };
  return { elapsed: `${duration(ms)} elapsed`, rate: rate(ratePerMinute(progress, ms)) };
}

/** "retried ×1", "resumed after a restart ×2", both, or "" (SPEC §7.4: a user's retry
 * and a crash resume are both `run_resumed`; the server counts retries apart). */
export function history(lifecycle) {
  const retried = lifecycle?.retriedCount ?? 0;
  const resumed = (lifecycle?.resumedCount ?? 0) - retried;
  return [retried ? `retried ×${retried}` : "", resumed ? `resumed after a restart ×${resumed}` : ""]
    .filter(Boolean).join(" · ");
}
