// The live stream (SPEC §5): one EventSource on /api/events, resumed from the last
// event id after any error, re-created when the server goes quiet, and handed back to
// the app on `reset` so that it can refetch everything.
//
// The browser's own EventSource retry would resend Last-Event-ID but keep the original
// `?after=` in the URL; closing and re-opening with `?after=<last id>` ourselves makes
// the resume point explicit and lets us pace the retries.

export const STREAM_EVENTS = ["run_status", "run_progress", "run_item", "run_item_delta", "queue"];
const WATCHDOG_MS = 30_000;
const RETRY_MS = [250, 500, 1000, 2000, 4000];

export class LiveConnection {
  /**
   * @param {{onEvent: (name: string, data: object) => void,
   *          onReset: (position: string) => void,
   *          onState: (state: "connecting"|"live"|"reconnecting") => void}} handlers
   */
  constructor({ onEvent, onReset, onState }) {
    this.onEvent = onEvent;
    this.onReset = onReset;
    this.onState = onState;
    this.source = null;
    this.lastId = null;
    this.failures = 0;
    this.lastHeardAt = 0;
    this._retryTimer = 0;
    this._watchdog = 0;
  }

  /** Listen for everything after `position` (the X-Harness-Position of a snapshot). */
  start(position) {
    this.lastId = position;
    this.failures = 0;
    this._open();
    if (!this._watchdog) {
      this._watchdog = setInterval(() => this._checkQuiet(), 5000);
    }
  }

  stop() {
    clearTimeout(this._retryTimer);
    this._retryTimer = 0;
    if (this.source) {
      this.source.close();
      this.source = null;
    }
  }

  _open() {
    this.stop();
    // delta=text: a streaming item's text comes as what it appended (text-delta.js).
    const url = this.lastId
      ? `/api/events?delta=text&after=${encodeURIComponent(this.lastId)}`
      : "/api/events?delta=text";
    const source = new EventSource(url);
    this.source = source;
    this.lastHeardAt = Date.now();
    this.onState(this.failures ? "reconnecting" : "connecting");
    source.onopen = () => {
      this.failures = 0;
      this.lastHeardAt = Date.now();
      this.onState("live");
    };
    source.onerror = () => {
      if (this.source !== source) return;
      this._retry();
    };
    for (const name of STREAM_EVENTS) {
      source.addEventListener(name, (message) => this._receive(source, name, message));
    }
    source.addEventListener("ping", () => { this.lastHeardAt = Date.now(); });
    source.addEventListener("reset", (message) => {
      if (this.source !== source) return;
      this.stop();
      this.onState("connecting");
      this.onReset(JSON.parse(message.data).position);
    });
  }

  _receive(source, name, message) {
    if (this.source !== source) return;
    this.lastHeardAt = Date.now();
    if (message.lastEventId) this.lastId = message.lastEventId;
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    this.onEvent(name, data);
  }

  _retry() {
    this.stop();
    this.onState("reconnecting");
    const delay = RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)];
    this.failures += 1;
    this._retryTimer = setTimeout(() => this._open(), delay);
  }

  /** No data and no ping for 30 s: the connection is dead even if the socket is not. */
  _checkQuiet() {
    if (this.source && Date.now() - this.lastHeardAt > WATCHDOG_MS) this._retry();
  }
}
