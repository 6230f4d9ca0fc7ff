// Run commands shared by the board's cards and the run page.
import { api } from "./api.js";
import { confirmAction } from "./confirm.js";
import { runTitle } from "./format.js";
import { notify, notifyError } from "./notify.js";
import { guardCommand, isOffline } from "./outage.js";

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
  button.dataset.busy = "1";
  try {
    await command();
    if (done) notify(done);
  } catch (error) {
    notifyError(error);
  } finally {
    delete button.dataset.busy;
    button.disabled = isOffline();
  }
}

/** A command button: disabled while the live stream is down. */
export function commandButton(label, attrs, onclick) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  for (const [key, value] of Object.entries(attrs)) button.setAttribute(key, value);
  button.addEventListener("click", () => onclick(button));
  return guardCommand(button);
}

/** Cancel after the user confirmed it, naming the run: `run` is its current info. */
export async function cancelRun(button, run) {
  const yes = await confirmAction({
    title: `Cancel run ${run.id}?`,
    question: `${runTitle(run)} stops; items in flight end as canceled. This cannot be undone.`,
    yes: `Cancel ${run.id}`,
    no: "Keep running",
  });
  if (!yes) return undefined;
  return withButton(button, () => api.cancelRun(run.id), `Cancel requested for ${run.id}`);
}

export function retryRun(button, runId) {
  return withButton(button, () => api.retryRun(runId), "Retry dispatched");
}
