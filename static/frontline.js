// Confirmation prompts for forms marked data-confirm (kept out of inline handlers for the CSP).
document.addEventListener("submit", function (event) {
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// A table wider than the screen scrolls in its box: make the box reachable from the keyboard
// and name it, so it can be scrolled with the arrow keys (WCAG 2.1.1).
function markScrollingTables() {
  document.querySelectorAll(".table-responsive").forEach(function (box) {
    if (box.scrollWidth > box.clientWidth + 1) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.dataset.scrolls = "1";
      if (!box.hasAttribute("aria-label")) {
        const caption = box.querySelector("caption");
        const heading = caption ? caption.textContent : "";
        box.setAttribute("aria-label", (heading.trim() || "Table") + " (scrolls sideways)");
      }
    } else if (box.dataset.scrolls) {
      delete box.dataset.scrolls;
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
    }
  });
}
document.addEventListener("DOMContentLoaded", markScrollingTables);
window.addEventListener("resize", markScrollingTables);
