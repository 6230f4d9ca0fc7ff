// The board's state: a few dozen run snapshots and the queue, folded from the bootstrap
// and then from SSE messages. Every message carries absolute state, or a streaming
// item's appended text (`run_item_delta`), so applying one twice is harmless. Changes
// are collected and handed to views once per animation frame, so a burst of hundreds
// of events costs one render.
import { parseTime } from "./format.js";
import { applyTextDelta, composeTextDeltas } from "./text-delta.js";

export const BOARD_LIMIT = 24;
const RECENT_ITEMS = 5;
const ACTIVE = new Set(["pending", "running"]);

export function isActive(run) {
  return ACTIVE.has(run.status);
}

/** One run as the board knows it: the snapshot of SPEC §4.1 plus the items it has seen. */
class BoardRun {
  constructor(run) {
    this.run = run;
    this.lifecycle = { resumedCount: 0, lastResumedAt: null, cancelRequestedAt: null };
    this.progress = null;
    this.currentSequence = null;
    this.items = new Map();
    this.recent = [];
    this.stub = false;
  }

  static fromSnapshot(snapshot) {
    const entry = new BoardRun(snapshot.run);
    entry.lifecycle = snapshot.lifecycle ?? entry.lifecycle;
    entry.progress = snapshot.progress ?? null;
    for (const item of [...(snapshot.recentItems ?? [])].reverse()) entry.putItem(item);
    if (snapshot.currentItem) {
      entry.items.set(snapshot.currentItem.sequence, snapshot.currentItem);
      entry.currentSequence = snapshot.currentItem.sequence;
    }
    return entry;
  }

  get currentItem() {
    return this.currentSequence === null ? null : this.items.get(this.currentSequence) ?? null;
  }

  /** Up to five latest items that changed state, newest first. */
  get recentItems() {
    return this.recent.map((sequence) => this.items.get(sequence)).filter(Boolean);
  }

  putItem(item) {
    const before = this.items.get(item.sequence);
    this.items.set(item.sequence, item);
    if (!before || before.state !== item.state || before.attempts !== item.attempts) {
      this.recent = [item.sequence, ...this.recent.filter((s) => s !== item.sequence)]
        .slice(0, RECENT_ITEMS);
    }
    // Keep only what the card shows: a busy run must not grow the page's memory.
    for (const sequence of this.items.keys()) {
      if (sequence !== this.currentSequence && !this.recent.includes(sequence)) {
        this.items.delete(sequence);
      }
    }
  }
}

function newestFirst(timeOf) {
  return (a, b) => (timeOf(b) ?? 0) - (timeOf(a) ?? 0);
}

export class RunStore {
  /** @param {{onUnknownRun?: (id: string) => void}} options */
  constructor({ onUnknownRun } = {}) {
    this.runs = new Map();
    this.queue = [];
    this.onUnknownRun = onUnknownRun ?? (() => {});
    this._listeners = new Set();
    this._itemWatchers = new Map();
    this._itemNews = new Map();
    this._changed = new Set();
    this._queueChanged = false;
    this._reset = false;
    this._frame = 0;
  }

  /** Drop everything and start from a bootstrap body (`/api/data`). */
  hydrate({ active = [], queue = [] }) {
    this.runs.clear();
    for (const snapshot of active) this.runs.set(snapshot.run.id, BoardRun.fromSnapshot(snapshot));
    this.queue = queue;
    this._reset = true;
    this._schedule();
  }

  /**
   * Fill in a run the stream named before the page had its snapshot (`/api/runs/{id}`).
   * What the stream already delivered is newer than the fetch, so it is kept.
   */
  fillSnapshot(snapshot) {
    const entry = this.runs.get(snapshot.run.id);
    const fetched = BoardRun.fromSnapshot(snapshot);
    if (!entry) {
      this.runs.set(snapshot.run.id, fetched);
    } else {
      if (entry.stub) { entry.run = fetched.run; entry.lifecycle = fetched.lifecycle; entry.stub = false; }
      if (!entry.progress) entry.progress = fetched.progress;
      if (entry.items.size === 0) {
        entry.items = fetched.items;
        entry.recent = fetched.recent;
        entry.currentSequence = fetched.currentSequence;
      }
    }
    this._touch(snapshot.run.id);
  }

  /** Fold one SSE message. */
  apply(name, data) {
    switch (name) {
      case "run_status": {
        const entry = this._entry(data.run.id);
        entry.run = data.run;
        entry.stub = false;
        if (data.lifecycle) entry.lifecycle = data.lifecycle;
        this._touch(data.run.id);
        break;
      }
      case "run_progress": {
        const entry = this._entry(data.runId);
        entry.progress = data.progress;
        if (data.currentSequence !== undefined) entry.currentSequence = data.currentSequence;
        this._touch(data.runId);
        break;
      }
      case "run_item": {
        const entry = this._entry(data.runId);
        if (data.item.state === "running" && entry.currentSequence === null) {
          entry.currentSequence = data.item.sequence;
        }
        entry.putItem(data.item);
        this._itemNew(data.runId, data.item.sequence, data.item);
        this._touch(data.runId);
        break;
      }
      case "run_item_delta": {
        // The board keeps a few items of each run; a watcher may hold the one named.
        const entry = this.runs.get(data.runId);
        const applied = applyTextDelta(entry?.items.get(data.sequence), data);
        if (applied) {
          entry.items.set(data.sequence, applied);
          this._touch(data.runId);
        }
        this._itemNew(data.runId, data.sequence, applied ?? data);
        if (!applied && this._itemWatchers.has(data.runId)) this._schedule();
        break;
      }
      case "queue":
        this.queue = data.queue ?? [];
        this._queueChanged = true;
        this._schedule();
        break;
      default:
        break;
    }
  }

  /** The board's cards in order: active runs newest first, then the latest finished. */
  boardRuns(limit = BOARD_LIMIT) {
    const entries = [...this.runs.values()];
    const created = (e) => parseTime(e.run.createdAt);
    const finished = (e) => parseTime(e.run.finishedAt) ?? created(e);
    const active = entries.filter((e) => isActive(e.run)).sort(newestFirst(created));
    const done = entries.filter((e) => !isActive(e.run)).sort(newestFirst(finished));
    return [...active, ...done].slice(0, limit);
  }

  /** Views call `listener({runs: Set<id>, queue: bool, reset: bool})` once per frame. */
  subscribe(listener) {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  /**
   * Every item message of one run (the board keeps only a few): `listener(updates)`
   * once per frame with the latest state of each item that changed, or, for an item
   * the board does not hold, the text delta (all of the frame's in one) for the
   * watcher to apply (`applyTextDelta`) to its own copy. An update with an `offset` is
   * a delta.
   */
  watchItems(runId, listener) {
    if (!this._itemWatchers.has(runId)) this._itemWatchers.set(runId, new Set());
    this._itemWatchers.get(runId).add(listener);
    return () => {
      const watchers = this._itemWatchers.get(runId);
      watchers.delete(listener);
      if (!watchers.size) this._itemWatchers.delete(runId);
    };
  }

  /** Note for `runId`'s watchers an item's new state, or a delta the board could not
   * apply: one update per item, however many messages a frame (or a hidden tab) holds. */
  _itemNew(runId, sequence, update) {
    if (!this._itemWatchers.has(runId)) return;
    if (!this._itemNews.has(runId)) this._itemNews.set(runId, new Map());
    const news = this._itemNews.get(runId);
    const before = news.get(sequence);
    if (update.offset === undefined || !before) news.set(sequence, update);
    else if (before.offset === undefined) news.set(sequence, applyTextDelta(before, update) ?? before);
    else news.set(sequence, composeTextDeltas(before, update));
  }

  _entry(runId) {
    let entry = this.runs.get(runId);
    if (!entry) {
      entry = new BoardRun({ id: runId, status: "pending", modelName: runId, datasetName: "…",
        providerName: "…" });
      entry.stub = true;
      this.runs.set(runId, entry);
    }
    return entry;
  }

  _touch(runId) {
    this._changed.add(runId);
    this._schedule();
  }

  _schedule() {
    if (this._frame) return;
    this._frame = requestAnimationFrame(() => this._flush());
  }

  _flush() {
    this._frame = 0;
    this._prune();
    // A run the page met mid-way (an old run given feedback, a gap): ask for the rest.
    for (const id of this._changed) {
      const entry = this.runs.get(id);
      if (entry && (entry.stub || !entry.progress)) this.onUnknownRun(id);
    }
    const changes = { runs: this._changed, queue: this._queueChanged, reset: this._reset };
    this._changed = new Set();
    this._queueChanged = false;
    this._reset = false;
    for (const listener of this._listeners) listener(changes);
    const news = this._itemNews;
    this._itemNews = new Map();
    for (const [runId, items] of news) {
      const updates = [...items.values()];
      for (const listener of this._itemWatchers.get(runId) ?? []) listener(updates);
    }
  }

  /** Forget finished runs that fell off the board, so a day-long session stays small. */
  _prune() {
    if (this.runs.size <= BOARD_LIMIT) return;
    const keep = new Set(this.boardRuns().map((e) => e.run.id));
    for (const [id, entry] of this.runs) {
      if (!keep.has(id) && !isActive(entry.run)) this.runs.delete(id);
    }
  }
}
