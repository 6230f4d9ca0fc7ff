// Start-up: hydrate the store from /api/data, then follow /api/events from the
// position that snapshot reflects, so nothing is missed between the two.
import { api } from "./api.js";
import { mountArchive } from "./archive.js";
import { mountBoard } from "./board.js";
import { mountBrowserHarness } from "./browser-harness.js";
import { mountCompare } from "./compare.js";
import { LiveConnection } from "./connection.js";
import { mountNewRun } from "./new-run.js";
import { showConnectionState } from "./outage.js";
import { startRouter } from "./router.js";
import { mountRun } from "./run-view.js";
import { RunStore } from "./store.js";
import { setupThemeToggle } from "./theme.js";

const RETRY_MS = 1000;
const LOG_CHECK_MS = 5000;
const indicator = document.getElementById("connection");
const fetching = new Set();

const store = new RunStore({ onUnknownRun: fetchRun });
const connection = new LiveConnection({
  onEvent: (name, data) => store.apply(name, data),
  onReset: () => hydrate(),
  onState: showState,
});

let streamState = "connecting";
let logOffline = false;

function showState(state) {
  streamState = state;
  const shown = state === "live" && logOffline ? "log offline" : state;
  indicator.dataset.state = shown === "log offline" ? "degraded" : state;
  indicator.textContent = shown;
  indicator.title = shown === "log offline"
    ? "The server cannot reach its log (NATS); it reconnects by itself and the board catches up."
    : "";
  showConnectionState(shown);
}

/** A server on a networked log (JetStream) says in its health when it has lost it: the
 * stream from the server is live but nothing new can arrive. Asked every few seconds,
 * only of a server that has such a log. */
async function watchLogConnection() {
  try {
    // Read whatever the status: health answers 503 once the log reader has failed.
    const response = await fetch("/api/health", { cache: "no-cache" });
    const body = await response.json();
    if (!body.logConnection) return; // the file log: nothing to watch
    logOffline = !body.logConnection.connected;
  } catch {
    // An unreachable server: the stream's own state says so.
  }
  showState(streamState);
  setTimeout(watchLogConnection, LOG_CHECK_MS);
}

async function fetchRun(runId) {
  if (fetching.has(runId)) return;
  fetching.add(runId);
  try {
    const { body } = await api.run(runId);
    store.fillSnapshot(body);
  } catch {
    // The next message for this run asks again.
  } finally {
    fetching.delete(runId);
  }
}

/** Fetch the board and start the stream from its position; retry until the server answers. */
async function hydrate() {
  connection.stop();
  for (;;) {
    try {
      const { body, position } = await api.bootstrap();
      store.hydrate(body);
      connection.start(position ?? body.position);
      return;
    } catch {
      showState("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}

const routes = [
  { name: "board", title: "Board", pattern: /^\/$/, mount: mountBoard },
  { name: "archive", title: "Archive", pattern: /^\/archive$/, mount: mountArchive },
  { name: "archive", title: "Run", pattern: /^\/runs\/([^/]+)(?:\/items\/(\d+))?$/, mount: mountRun },
  { name: "compare", title: "Compare", pattern: /^\/compare$/, mount: mountCompare },
  { name: "new", title: "New run", pattern: /^\/new$/, mount: mountNewRun },
  { name: "browser-harness", title: "Browser Harness", pattern: /^\/browser-harness$/, mount: mountBrowserHarness },
];

setupThemeToggle(document.getElementById("theme-toggle"));
startRouter(document.getElementById("main"), routes, { store });
hydrate();
watchLogConnection();
