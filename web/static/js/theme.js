// Colour theme: follow the system, or force light or dark; remembered per browser.
// A change is announced as a `themechange` event so that charts can redraw.
const KEY = "harness-theme";
const ORDER = ["auto", "light", "dark"];

function apply(theme, button) {
  if (theme === "auto") document.documentElement.removeAttribute("data-theme");
  else document.documentElement.setAttribute("data-theme", theme);
  button.textContent = theme;
  button.title = `Colour theme: ${theme} (click to change)`;
  button.setAttribute("aria-label", `Colour theme: ${theme}`);
  document.dispatchEvent(new Event("themechange"));
}

export function setupThemeToggle(button) {
  let theme = localStorage.getItem(KEY) || "auto";
  apply(theme, button);
  button.addEventListener("click", () => {
    theme = ORDER[(ORDER.indexOf(theme) + 1) % ORDER.length];
    localStorage.setItem(KEY, theme);
    apply(theme, button);
  });
}
