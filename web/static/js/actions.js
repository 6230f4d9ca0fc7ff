// Run commands shared by the board's cards and the run page.
import { api } from "./api.js";
import { notify, notifyError } from "./notify.js";

export function canCancel(run) {
  return run.status === "pending" || run.status === "running";
}

/** A finished run with faulted or unfinished items can be re-dispatched. */
export function canRetry(run, progress) {
  if (canCancel(run)) return false;
  return run.status !== "completed" || Boolean(progress && (progress.faulted || progress.pending || progress.awaiting));
}

/** Run `command` with `button` disabled meanwhile; report the server's error message. */
async function withButton(button, command, done) {
  button.disabled = true;
  try {
    await command();
    if (done) notify(done);
  } catch (error) {
    notifyError(error);
  } finally {
    button.disabled = false;
  }
}

export function cancelRun(button, runId) {
  return withButton(button, () => api.cancelRun(runId), "Cancel requested");
}

export function retryRun(button, runId) {
  return withButton(button, () => api.retryRun(runId), "Retry dispatched");
}
