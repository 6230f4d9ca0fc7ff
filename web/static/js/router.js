// A small hash router: `#/path?query`. Each route mounts a view into <main> and gets
// back a function that unmounts it (unsubscribes, stops timers), or an object
// `{unmount, update(params, args)}` for a view that follows its own query in place.

/** The current location as {path, params}. `#/archive?status=running` -> "/archive". */
export function currentLocation() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = hash.split("?", 2);
  return { path: path || "/", params: new URLSearchParams(search) };
}

/** Build a hash link from a path and the non-empty params. */
export function link(path, params = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return `#${path}${text ? `?${text}` : ""}`;
}

export function navigate(path, params) {
  location.hash = link(path, params);
}

/** Move focus to the page's first heading (made focusable for that, not tabbable). */
export function focusHeading(root) {
  const heading = root.querySelector("h1");
  if (!heading) return;
  heading.tabIndex = -1;
  heading.focus({ preventScroll: false });
}

/**
 * @param {HTMLElement} root  where views are mounted
 * @param {Array<{name: string, pattern: RegExp, mount: Function}>} routes
 * @param {object} context  handed to every view (store, connection…)
 */
export function startRouter(root, routes, context) {
  let unmount = null;
  let current = null;
  let first = true;

  function show() {
    const { path, params } = currentLocation();
    let route = routes[0];
    let match = null;
    for (const candidate of routes) {
      match = candidate.pattern.exec(path);
      if (match) { route = candidate; break; }
    }
    const args = match ? match.slice(1).map((arg) => (arg === undefined ? undefined : decodeURIComponent(arg))) : [];
    const key = `${route.pattern}|${args[0] ?? ""}`;
    // A view that can follow its own parameters (filters, an open item) is updated in
    // place, so the control the user is on keeps its focus.
    if (current && current.key === key && current.view?.update) {
      current.view.update(params, args);
      return;
    }
    if (unmount) unmount();
    unmount = null;
    root.replaceChildren();
    document.title = route.title ? `${route.title} · Harness` : "Harness";
    const view = route.mount(root, { ...context, params, args }) || null;
    unmount = typeof view === "function" ? view : view?.unmount ?? null;
    current = { key, view: typeof view === "function" ? null : view };
    for (const navLink of document.querySelectorAll("[data-nav]")) {
      if (navLink.dataset.nav === route.name) navLink.setAttribute("aria-current", "page");
      else navLink.removeAttribute("aria-current");
    }
    // A screen-reader or keyboard user lands on the new page's heading, not on <body>.
    if (!first) focusHeading(root);
    first = false;
  }

  window.addEventListener("hashchange", show);
  show();
}
