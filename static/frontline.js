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

// A multiple select becomes a list of checkboxes with a filter box: no Ctrl-click, and long
// lists (systems, threats) narrow as one types. The select stays in the form, hidden, and
// carries the choice, so the form posts the same fields with or without this script.
function enhanceMultiSelect(select) {
  if (select.dataset.enhanced) return;
  select.dataset.enhanced = "1";
  const label = document.querySelector('label[for="' + select.id + '"]');
  const name = label ? label.textContent.trim() : "Choices";
  const wrap = document.createElement("div");
  wrap.className = "multi-pick border rounded p-2" + (select.classList.contains("is-invalid") ? " border-danger" : "");
  wrap.dataset.testid = "multi-pick-" + select.name;

  const filter = document.createElement("input");
  filter.type = "search";
  filter.className = "form-control form-control-sm mb-2";
  filter.id = select.id + "-filter";
  filter.placeholder = "Type to filter";
  filter.setAttribute("aria-label", "Filter " + name.toLowerCase());
  filter.setAttribute("aria-controls", select.id + "-choices");
  const status = document.createElement("div");
  status.className = "small text-body-secondary mb-1";
  status.setAttribute("aria-live", "polite");

  const list = document.createElement("div");
  list.className = "multi-pick-list";
  list.id = select.id + "-choices";
  list.setAttribute("role", "group");
  list.setAttribute("aria-label", name);
  if (select.getAttribute("aria-describedby")) {
    list.setAttribute("aria-describedby", select.getAttribute("aria-describedby"));
  }
  const empty = document.createElement("div");
  empty.className = "small text-body-secondary";
  empty.textContent = "Nothing matches.";
  empty.hidden = true;

  const boxes = [];
  function count() {
    const n = boxes.filter(function (b) { return b.checked; }).length;
    status.textContent = n === 1 ? "1 selected" : n + " selected";
  }
  Array.from(select.options).forEach(function (option, i) {
    const row = document.createElement("div");
    row.className = "form-check";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.className = "form-check-input";
    box.id = select.id + "-choice-" + i;
    box.value = option.value;
    box.checked = option.selected;
    box.disabled = option.disabled;
    box.addEventListener("change", function () {
      option.selected = box.checked;
      count();
    });
    const text = document.createElement("label");
    text.className = "form-check-label";
    text.htmlFor = box.id;
    text.textContent = option.textContent;
    row.appendChild(box);
    row.appendChild(text);
    list.appendChild(row);
    boxes.push(box);
  });
  list.appendChild(empty);
  filter.addEventListener("input", function () {
    const words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    boxes.forEach(function (box) {
      const text = box.nextSibling.textContent.toLowerCase();
      const match = words.every(function (w) { return text.indexOf(w) !== -1; });
      box.parentNode.hidden = !match;
      if (match) shown += 1;
    });
    empty.hidden = shown > 0;
  });
  // Enter in the filter box must not submit the form.
  filter.addEventListener("keydown", function (event) {
    if (event.key === "Enter") event.preventDefault();
  });

  wrap.appendChild(filter);
  wrap.appendChild(status);
  wrap.appendChild(list);
  select.hidden = true;
  select.setAttribute("aria-hidden", "true");
  select.tabIndex = -1;
  if (label) label.htmlFor = filter.id;
  select.parentNode.insertBefore(wrap, select.nextSibling);
  count();
}
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form select[multiple]").forEach(enhanceMultiSelect);
});

// Live score and level beside likelihood and impact choices (see the score_preview macro).
function updateScorePreview(output) {
  const l = parseInt((document.getElementById(output.dataset.likelihood) || {}).value, 10);
  const i = parseInt((document.getElementById(output.dataset.impact) || {}).value, 10);
  output.textContent = "";
  if (!l || !i) {
    output.textContent = output.dataset.unchanged;
    return;
  }
  const score = l * i;
  const level = JSON.parse(output.dataset.levels).find(function (band) {
    return band[0] <= score && score <= band[1];
  });
  output.appendChild(document.createTextNode("Score " + score + " · "));
  if (level) {
    const badge = document.createElement("span");
    badge.className = "badge text-bg-" + level[3];
    badge.textContent = level[2];
    output.appendChild(badge);
  }
}
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("output.score-preview").forEach(function (output) {
    [output.dataset.likelihood, output.dataset.impact].forEach(function (id) {
      const input = document.getElementById(id);
      if (input) input.addEventListener("change", function () { updateScorePreview(output); });
    });
    updateScorePreview(output);
  });
});

// Back + Save again: a form page that the browser fetches anew on Back gets a fresh one-time
// token, so the token last sent from this form is put back (app/once.py then refuses to save
// the same form twice and shows what the first Save made).
document.addEventListener("submit", function (event) {
  const token = event.target.querySelector("input[name=_once]");
  if (token && !event.defaultPrevented) {
    try { sessionStorage.setItem("once:" + event.target.action, token.value); } catch (e) { /* private mode */ }
  }
});
document.addEventListener("DOMContentLoaded", function () {
  const navigation = performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
  if (!navigation || navigation.type !== "back_forward") return;
  document.querySelectorAll("form").forEach(function (form) {
    const token = form.querySelector("input[name=_once]");
    let sent = null;
    try { sent = sessionStorage.getItem("once:" + form.action); } catch (e) { /* private mode */ }
    if (token && sent) token.value = sent;
  });
});
