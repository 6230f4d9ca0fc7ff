// The active board (`#/`): one card per active or recent run, kept in the order of
// the store. Cards are keyed by run id and moved (as few as possible), never rebuilt.
import { RunCard } from "./card.js";
import { h, replace, setText } from "./dom.js";
import { placeInOrder } from "./reorder.js";
import { isActive } from "./store.js";

export function mountBoard(root, { store }) {
  const summary = h("span", { class: "muted", id: "board-summary" });
  const grid = h("section", { class: "board", id: "board", "aria-label": "Runs" });
  const empty = h("p", { class: "empty" }, "No runs yet. ",
    h("a", { href: "#/new" }, "Start one"), " or append events to the log.");
  replace(root,
    h("div", { class: "board-head" }, h("h1", {}, "Runs"), summary,
      h("span", { class: "spacer" }), h("a", { class: "button", href: "#/new" }, "New run")),
    grid, empty);

  const cards = new Map();

  function render(changedIds) {
    const entries = store.boardRuns();
    const wanted = new Set(entries.map((entry) => entry.run.id));
    for (const id of cards.keys()) if (!wanted.has(id)) cards.delete(id);
    for (const entry of entries) {
      let card = cards.get(entry.run.id);
      if (!card) {
        card = new RunCard(entry.run.id);
        cards.set(entry.run.id, card);
        card.update(entry);
      } else if (!changedIds || changedIds.has(entry.run.id)) {
        card.update(entry);
      }
    }
    // Move only the cards that are out of place: a moved card loses its focus.
    placeInOrder(grid, entries.map((entry) => cards.get(entry.run.id).node));
    empty.hidden = entries.length > 0;
    const running = entries.filter((e) => e.run.status === "running").length;
    const pending = entries.filter((e) => isActive(e.run)).length - running;
    setText(summary, `${running} running · ${pending} pending · ${store.queue.length} queued`);
  }

  render(null);
  const unsubscribe = store.subscribe((changes) => render(changes.reset ? null : changes.runs));
  const clock = setInterval(() => {
    const now = Date.now();
    for (const card of cards.values()) if (card.entry && isActive(card.entry.run)) card.tick(now);
  }, 1000);
  return () => {
    unsubscribe();
    clearInterval(clock);
  };
}
