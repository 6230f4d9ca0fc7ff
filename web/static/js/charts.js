// Small charts drawn by the vendored uPlot (no CDN, no build step): a histogram as
// bars, a series as a line. Colours come from the page's palette, so a chart follows
// the light or dark scheme; charts are redrawn when the scheme changes.
import uPlot from "/static/vendor/uplot/uPlot.esm.js";
import { h } from "./dom.js";

const HEIGHT = 150;

function palette() {
  const style = getComputedStyle(document.documentElement);
  const read = (name) => style.getPropertyValue(name).trim();
  // light-dark() is resolved only on an element's own properties: use a probe.
  const probe = h("span", { style: "position:absolute;visibility:hidden" });
  document.body.append(probe);
  const resolve = (name) => { probe.style.color = read(name) ? `var(${name})` : ""; return getComputedStyle(probe).color; };
  const colours = { text: resolve("--muted"), grid: resolve("--border"), accent: resolve("--accent"),
    correct: resolve("--correct"), running: resolve("--running") };
  probe.remove();
  return colours;
}

function axes(colours, xLabel, yLabel) {
  const axis = (label) => ({ label, stroke: colours.text, grid: { stroke: colours.grid, width: 1 },
    ticks: { stroke: colours.grid }, font: "11px system-ui", labelFont: "11px system-ui", size: 34 });
  return [axis(xLabel), axis(yLabel)];
}

/**
 * A chart box with a caption and a text alternative (`summary`) for screen readers.
 * `draw(width, colours)` returns uPlot options and data; the box redraws itself.
 */
function chartBox(id, caption, summary, draw) {
  const plotArea = h("div", { class: "chart-plot", "aria-hidden": "true" });
  const node = h("figure", { class: "chart", id },
    h("figcaption", {}, caption), plotArea, h("p", { class: "visually-hidden" }, summary));
  let plot = null;
  const render = () => {
    if (!node.isConnected) return;
    plot?.destroy();
    const width = Math.max(200, Math.floor(plotArea.clientWidth || 280));
    const { options, data } = draw(width, palette());
    plot = new uPlot({ width, height: HEIGHT, legend: { show: false }, cursor: { show: false }, ...options },
      data, plotArea);
  };
  const schemes = matchMedia("(prefers-color-scheme: dark)");
  const onScheme = () => render();
  schemes.addEventListener("change", onScheme);
  document.addEventListener("themechange", onScheme);
  requestAnimationFrame(render);
  return { node, render, destroy() { plot?.destroy(); schemes.removeEventListener("change", onScheme);
    document.removeEventListener("themechange", onScheme); } };
}

/** `histogram`: {edges, counts} from the server. */
export function histogramChart(id, caption, histogram, unit) {
  const centres = histogram.counts.map((_, i) => (histogram.edges[i] + histogram.edges[i + 1]) / 2);
  const biggest = histogram.counts.indexOf(Math.max(...histogram.counts));
  const summary = `${caption}: ${histogram.counts.reduce((a, b) => a + b, 0)} values from `
    + `${histogram.edges[0].toFixed(1)} to ${histogram.edges.at(-1).toFixed(1)} ${unit}; most between `
    + `${histogram.edges[biggest].toFixed(1)} and ${(histogram.edges[biggest + 1] ?? histogram.edges[biggest]).toFixed(1)}.`;
  return chartBox(id, caption, summary, (width, colours) => ({
    options: {
      scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      axes: axes(colours, unit, "items"),
      series: [{}, { stroke: colours.accent, fill: colours.accent, paths: uPlot.paths.bars({ size: [0.9, 60] }) }],
    },
    data: [centres, histogram.counts],
  }));
}

/** `points`: [[judged so far, accuracy so far], …]. */
export function accuracyChart(id, caption, points) {
  const last = points.at(-1);
  const summary = last ? `${caption}: ${(last[1] * 100).toFixed(1)}% after ${last[0]} judged items.` : caption;
  return chartBox(id, caption, summary, (width, colours) => ({
    options: {
      scales: { x: { time: false }, y: { range: [0, 1] } },
      axes: axes(colours, "judged items", "accuracy"),
      series: [{}, { stroke: colours.correct, width: 2 }],
    },
    data: [points.map((p) => p[0]), points.map((p) => p[1])],
  }));
}
