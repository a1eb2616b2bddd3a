// gitward web UI: keyboard shortcuts and expand/collapse. No inline script anywhere (the
// Content-Security-Policy forbids it); everything else is htmx attributes in the HTML.
"use strict";
document.addEventListener("keydown", (event) => {
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
  if (event.key === "/" && !typing) {
    const search = document.getElementById("search");
    if (search) { event.preventDefault(); search.focus(); }
  } else if (event.key === "Escape" && typing) {
    document.activeElement.blur();
  }
});
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-expand]");
  if (!button) return;
  const open = button.dataset.expand === "all";
  document.querySelectorAll("details.object").forEach((d) => { d.open = open; });
});
