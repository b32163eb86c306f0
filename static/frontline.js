// Confirmation prompts for forms marked data-confirm (kept out of inline handlers for the CSP).
document.addEventListener("submit", function (event) {
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
