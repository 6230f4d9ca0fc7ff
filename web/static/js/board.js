// The active board (`#/`): active runs, then recently finished ones, in two sections.
// Cards are keyed by run id and moved (as few as possible), never rebuilt.
//
// Cards never move under the pointer or the focus: while the pointer is over the board,
// focus is inside it or a confirmation is open, the layout is held as it is (a card
// that finishes stays where it is, a card that would shrink keeps its height) and new
// runs wait behind an "N new runs" pill. After a confirmation closes, the layout waits
// for the pointer to move (the answer's button may lie over another card's place).
// The layout catches up when the user moves away, or at once when the pill is pressed.
import { RunCard } from "./card.js";
import { dialogOpen } from "./confirm.js";
import { h, replace, setText } from "./dom.js";
import { placeInOrder } from "./reorder.js";
import { isActive } from "./store.js";

/** Whether the last known pointer position lies inside `node`'s box. */
function pointerInside(node, pointer) {
  if (!pointer) return false;
  const box = node.getBoundingClientRect();
  return pointer.x >= box.left && pointer.x <= box.right && pointer.y >= box.top && pointer.y <= box.bottom;
}

export function mountBoard(root, { store }) {
  const summary = h("span", { class: "muted live-number", id: "board-summary" });
  const activeGrid = h("div", { class: "board", id: "board-active" });
  const doneGrid = h("div", { class: "board", id: "board-finished" });
  const activeSection = h("section", { "aria-labelledby": "board-active-title" },
    h("h2", { id: "board-active-title" }, "Active"), activeGrid);
  const doneSection = h("section", { "aria-labelledby": "board-finished-title" },
    h("h2", { id: "board-finished-title" }, "Recently finished"), doneGrid);
  const pill = h("button", { type: "button", class: "new-runs", hidden: true, onclick: () => layout(true) });
  const empty = h("p", { class: "empty" }, "No runs yet. ",
    h("a", { href: "#/new" }, "Start one"), " or append events to the log.");
  const board = h("div", { id: "board" }, activeSection, doneSection);
  replace(root,
    h("div", { class: "board-head" }, h("h1", {}, "Runs"), summary, pill,
      h("span", { class: "spacer" }), h("a", { class: "button", href: "#/new" }, "New run")),
    board, empty);

  const cards = new Map();
  let pointer = null;
  let pausedAt = null;
  let held = false;

  const holding = () => dialogOpen() || pausedAt !== null || board.contains(document.activeElement)
    || pointerInside(board, pointer);

  function cardFor(entry) {
    let card = cards.get(entry.run.id);
    if (!card) {
      card = new RunCard(entry.run.id);
      cards.set(entry.run.id, card);
      card.update(entry);
    }
    return card;
  }

  /** Cards stay as tall as they were while held: a shrinking card would pull others up. */
  function holdHeights(on) {
    for (const card of cards.values()) {
      card.node.style.minHeight = on && card.node.isConnected ? `${card.node.getBoundingClientRect().height}px` : "";
    }
  }

  /** Put every card where the store's order says (`force`: even while held). */
  function layout(force = false) {
    const entries = store.boardRuns();
    const shownIds = new Set([...activeGrid.children, ...doneGrid.children].map((n) => n.dataset.runId));
    if (!force && holding()) {
      const fresh = entries.filter((e) => !shownIds.has(e.run.id)).length;
      pill.hidden = fresh === 0;
      setText(pill, fresh === 1 ? "1 new run" : `${fresh} new runs`);
      if (!held) holdHeights(true);
      held = true;
      return;
    }
    if (held) holdHeights(false);
    held = false;
    pill.hidden = true;
    const wanted = new Set(entries.map((entry) => entry.run.id));
    for (const id of cards.keys()) if (!wanted.has(id)) cards.delete(id);
    placeInOrder(activeGrid, entries.filter((e) => isActive(e.run)).map((e) => cardFor(e).node));
    placeInOrder(doneGrid, entries.filter((e) => !isActive(e.run)).map((e) => cardFor(e).node));
    activeSection.hidden = activeGrid.children.length === 0;
    doneSection.hidden = doneGrid.children.length === 0;
    empty.hidden = entries.length > 0;
  }

  function render(changedIds) {
    for (const entry of store.boardRuns()) {
      const card = cards.get(entry.run.id);
      if (card && (!changedIds || changedIds.has(entry.run.id))) card.update(entry);
    }
    layout();
    const entries = store.boardRuns();
    const running = entries.filter((e) => e.run.status === "running").length;
    const pending = entries.filter((e) => isActive(e.run)).length - running;
    setText(summary, `${running} running · ${pending} pending · ${store.queue.length} queued`);
  }

  const settle = () => { if (held) setTimeout(() => { if (held) layout(); }, 0); };
  const onPointer = (event) => {
    pointer = { x: event.clientX, y: event.clientY };
    if (pausedAt && Math.hypot(pointer.x - pausedAt.x, pointer.y - pausedAt.y) > 4) {
      pausedAt = null;
      settle();
    }
  };
  const onConfirmClose = () => { pausedAt = pointer ?? { x: -1e6, y: -1e6 }; };
  document.addEventListener("pointermove", onPointer, { passive: true });
  document.addEventListener("pointerdown", onPointer, { passive: true });
  board.addEventListener("pointerleave", settle);
  board.addEventListener("focusout", settle);
  document.addEventListener("confirmclose", onConfirmClose);

  render(null);
  const unsubscribe = store.subscribe((changes) => render(changes.reset ? null : changes.runs));
  const clock = setInterval(() => {
    const now = Date.now();
    for (const card of cards.values()) if (card.entry && isActive(card.entry.run)) card.tick(now);
    if (held) layout();
  }, 1000);
  return () => {
    unsubscribe();
    clearInterval(clock);
    document.removeEventListener("pointermove", onPointer);
    document.removeEventListener("pointerdown", onPointer);
    document.removeEventListener("confirmclose", onConfirmClose);
  };
}
