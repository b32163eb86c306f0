// Confirmation prompts for forms marked data-confirm (kept out of inline handlers for the CSP).
document.addEventListener("submit", function (event) {
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// A select marked data-reload-param reloads the page with its value in the query string
// (the key-result status form loads the chosen quarter's text, value and proposal). Without
// scripts, the form's "Show this quarter" button does the same on the server.
document.addEventListener("change", function (event) {
  const param = event.target.getAttribute("data-reload-param");
  if (!param) {
    return;
  }
  const url = new URL(window.location.href);
  url.searchParams.set(param, event.target.value);
  url.hash = event.target.form ? event.target.form.id : "";
  window.location.assign(url.toString());
});
