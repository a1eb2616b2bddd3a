// gitward web UI: keyboard shortcuts, the list's selection, expand/collapse. No inline
// script anywhere (the Content-Security-Policy forbids it); the rest is htmx attributes.
"use strict";

// The rows ticked for a bulk action, by app name: kept across live row updates and list
// refreshes (both replace the rows' HTML).
const selected = new Set();
let cursorApp = null; // the row the keyboard is on, by app name (rows are re-rendered live)

function showSelection() {
  const boxes = document.querySelectorAll("input.pick[name=app]");
  boxes.forEach((box) => { box.checked = selected.has(box.value); });
  const count = document.querySelector("[data-testid=selected]");
  if (count) count.textContent = `${selected.size} selected`;
  document.querySelectorAll("table.apps tbody tr").forEach((r) => {
    r.classList.toggle("cursor", r.dataset.app === cursorApp);
  });
  const all = document.getElementById("pick-all");
  if (all) all.checked = boxes.length > 0 && [...boxes].every((b) => b.checked);
}

document.addEventListener("change", (event) => {
  const box = event.target;
  if (box.id === "pick-all") {
    document.querySelectorAll("input.pick[name=app]").forEach((b) => {
      if (box.checked) selected.add(b.value); else selected.delete(b.value);
    });
  } else if (box.matches("input.pick[name=app]")) {
    if (box.checked) selected.add(box.value); else selected.delete(box.value);
  } else {
    return;
  }
  showSelection();
});
document.addEventListener("htmx:afterSettle", showSelection);
document.addEventListener("htmx:oobAfterSwap", showSelection);
document.addEventListener("htmx:configRequest", (event) => {
  // the bulk form sends every selected app, also those on rows no longer shown
  if (event.detail.elt.id !== "bulk" && !event.detail.elt.closest("#bulk")) return;
  const params = event.detail.parameters;
  params.delete("app");
  selected.forEach((name) => params.append("app", name));
});

function cursorRow(step) {
  const rows = [...document.querySelectorAll("table.apps tbody tr")];
  if (!rows.length) return null;
  const at = rows.findIndex((r) => r.classList.contains("cursor"));
  if (step === 0) return at >= 0 ? rows[at] : null;
  const next = rows[Math.min(rows.length - 1, Math.max(0, at < 0 ? 0 : at + step))];
  rows.forEach((r) => r.classList.remove("cursor"));
  next.classList.add("cursor");
  cursorApp = next.dataset.app;
  next.scrollIntoView({ block: "nearest" });
  return next;
}

function press(verb) {
  const button = document.querySelector(`#bulk button[data-bulk=${verb}]`);
  if (button && selected.size) button.click();
}

document.addEventListener("keydown", (event) => {
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
  if (event.key === "Escape" && typing) { document.activeElement.blur(); return; }
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  const search = document.getElementById("search");
  const row = cursorRow(0);
  if (event.key === "/" && search) { event.preventDefault(); search.focus(); }
  else if (event.key === "j") cursorRow(1);
  else if (event.key === "k") cursorRow(-1);
  else if (event.key === "x" && row) {
    const box = row.querySelector("input.pick");
    if (box) { box.checked = !box.checked; box.dispatchEvent(new Event("change", { bubbles: true })); }
  } else if ((event.key === "o" || event.key === "Enter") && row) {
    const link = row.querySelector("td:nth-child(2) a");
    if (link) link.click();
  } else if (event.key === "s") press("sync");
  else if (event.key === "r") press("refresh");
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-expand]");
  if (!button) return;
  const open = button.dataset.expand === "all";
  document.querySelectorAll("details.object").forEach((d) => { d.open = open; });
});
