// Putting a container's children in a wanted order with as few moves as possible.
// Moving a node (insertBefore) drops its focus and any text selection inside it, so
// the nodes that are already in order relative to each other stay where they are:
// the largest such set is kept (a longest increasing subsequence of their current
// positions), weighted so that a node holding the focus is kept whenever it can be.

/** Indices (into `positions`) of the heaviest increasing subsequence; -1 entries never count. */
function heaviestIncreasing(positions, weights) {
  const best = positions.map((p, i) => (p < 0 ? 0 : weights[i]));
  const previous = positions.map(() => -1);
  for (let i = 0; i < positions.length; i += 1) {
    if (positions[i] < 0) continue;
    for (let j = 0; j < i; j += 1) {
      if (positions[j] >= 0 && positions[j] < positions[i] && best[j] + weights[i] > best[i]) {
        best[i] = best[j] + weights[i];
        previous[i] = j;
      }
    }
  }
  let end = -1;
  best.forEach((value, i) => { if (positions[i] >= 0 && (end < 0 || value > best[end])) end = i; });
  const kept = new Set();
  for (let i = end; i >= 0; i = previous[i]) kept.add(i);
  return kept;
}

/**
 * Make `nodes` the children of `container`, in that order. Children not in `nodes`
 * are removed; the others are moved only when they are out of order.
 */
export function placeInOrder(container, nodes) {
  const wanted = new Set(nodes);
  for (const child of [...container.children]) if (!wanted.has(child)) child.remove();
  const current = new Map([...container.children].map((child, index) => [child, index]));
  const focused = document.activeElement;
  const positions = nodes.map((node) => current.get(node) ?? -1);
  // Weigh the focused node above all others together, so it is moved only if it must.
  const weights = nodes.map((node) => (focused && node.contains(focused) ? nodes.length + 1 : 1));
  const kept = heaviestIncreasing(positions, weights);
  // From the end: each node that is not kept goes right before its wanted successor.
  for (let i = nodes.length - 1; i >= 0; i -= 1) {
    if (kept.has(i)) continue;
    const next = nodes[i + 1] ?? null;
    if (nodes[i].nextElementSibling !== next || nodes[i].parentNode !== container) {
      container.insertBefore(nodes[i], next);
    }
  }
}
