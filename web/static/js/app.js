// Start-up: hydrate the store from /api/data, then follow /api/events from the
// position that snapshot reflects, so nothing is missed between the two.
import { api } from "./api.js";
import { mountArchive } from "./archive.js";
import { mountBoard } from "./board.js";
import { mountBrowserHarness } from "./browser-harness.js";
import { mountCompare } from "./compare.js";
import { LiveConnection } from "./connection.js";
import { mountNewRun } from "./new-run.js";
import { startRouter } from "./router.js";
import { showConnectionState } from "./outage.js";
import { mountRun } from "./run-view.js";
import { RunStore } from "./store.js";
import { setupThemeToggle } from "./theme.js";

const RETRY_MS = 1000;
const indicator = document.getElementById("connection");
const fetching = new Set();

const store = new RunStore({ onUnknownRun: fetchRun });
const connection = new LiveConnection({
  onEvent: (name, data) => store.apply(name, data),
  onReset: () => hydrate(),
  onState: showState,
});

function showState(state) {
  indicator.dataset.state = state;
  indicator.textContent = state;
  showConnectionState(state);
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
