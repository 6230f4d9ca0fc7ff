// `run_item_delta` (README, "Text deltas"): a running item's streamed text as what it
// appended after the first `offset` characters (or, when more was appended than the
// preview holds, the whole preview), instead of the whole item. Offsets count
// code points, as the server's Python does: `Array.from`, never `.length` or `.slice`
// of the string, which count UTF-16 units and would cut an emoji in half.
export const PREVIEW_CHARS = 280; // activity.preview: the last 280 characters streamed

/**
 * `item` with `delta` applied, or null when it does not apply: another attempt, an
 * item no longer running, or an item whose text is before the delta's base (the page
 * never had it) or past its end (it holds newer state). The item's next whole
 * `run_item` brings such a page up to date. Applying a delta twice changes nothing.
 */
export function applyTextDelta(item, delta) {
  if (!item || item.attempts !== delta.attempts || item.state !== "running") return null;
  const activity = item.activity ?? { preview: "", chunks: 0, chars: 0, lastChunkAt: null };
  const text = Array.from(delta.text);
  const end = delta.offset + text.length;
  // A text the preview's length needs nothing before it (more was appended than it holds).
  const hasBase = delta.offset <= activity.chars || text.length >= PREVIEW_CHARS;
  if (activity.chars > end || !hasBase) return null;
  const held = Array.from(activity.preview ?? "");
  const start = activity.chars - held.length; // where the held preview begins
  const kept = held.slice(0, Math.max(0, delta.offset - start));
  const preview = kept.concat(text).slice(-PREVIEW_CHARS).join("");
  return {
    ...item,
    activity: { ...activity, preview, chars: end, chunks: delta.chunks, lastChunkAt: delta.lastChunkAt },
  };
}

/**
 * One delta that does what `first` then `second` do, to any item either applies to, so
 * that deltas waiting for a frame (or a hidden tab) take one slot, not one each. Past
 * the preview's length only its end is kept: then it needs no text before it.
 */
export function composeTextDeltas(first, second) {
  const text = Array.from(first.text);
  const end = first.offset + text.length;
  if (first.attempts !== second.attempts || second.offset < first.offset || second.offset > end) {
    return second; // another attempt (or a gap): what came before no longer matters
  }
  const joined = text.slice(0, second.offset - first.offset).concat(Array.from(second.text));
  const cut = Math.max(0, joined.length - PREVIEW_CHARS);
  return { ...second, offset: first.offset + cut, text: joined.slice(cut).join("") };
}
