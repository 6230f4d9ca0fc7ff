// A small hash router: `#/path?query`. Each route mounts a view into <main> and gets
// back a function that unmounts it (unsubscribes, stops timers).

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

/**
 * @param {HTMLElement} root  where views are mounted
 * @param {Array<{name: string, pattern: RegExp, mount: Function}>} routes
 * @param {object} context  handed to every view (store, connection…)
 */
export function startRouter(root, routes, context) {
  let unmount = null;

  function show() {
    const { path, params } = currentLocation();
    let route = routes[0];
    let match = null;
    for (const candidate of routes) {
      match = candidate.pattern.exec(path);
      if (match) { route = candidate; break; }
    }
    if (unmount) unmount();
    unmount = null;
    root.replaceChildren();
    const args = match ? match.slice(1).map(decodeURIComponent) : [];
    unmount = route.mount(root, { ...context, params, args }) || null;
    for (const navLink of document.querySelectorAll("[data-nav]")) {
      if (navLink.dataset.nav === route.name) navLink.setAttribute("aria-current", "page");
      else navLink.removeAttribute("aria-current");
    }
    document.title = route.title ? `${route.title} · Harness` : "Harness";
  }

  window.addEventListener("hashchange", show);
  show();
}
