// Small helpers; every page works without them.
document.addEventListener("click", (event) => {
  const confirmer = event.target.closest("[data-confirm]");
  if (confirmer && !window.confirm(confirmer.dataset.confirm)) { event.preventDefault(); return; }
  const copier = event.target.closest("[data-copy]");
  if (copier) {
    const source = document.querySelector(copier.dataset.copy);
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.value || source.textContent.trim());
      copier.textContent = "Copied";
    }
  }
});

// An import form with data-progress: while its POST runs, poll the progress URL and show it.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-progress]");
  if (!form) return;
  const target = document.querySelector(form.dataset.progressTarget);
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  const poll = () => fetch(form.dataset.progress, { credentials: "same-origin" })
    .then((r) => r.json())
    .then((p) => {
      if (target) target.textContent = "Importing: " + p.done + " of " + p.total + " rows";
      if (p.state === "importing" || p.state === "previewed") setTimeout(poll, 500);
    })
    .catch(() => {});
  setTimeout(poll, 300);
});

// The navigation's groups are <details> menus that work without this script; with it, one is
// open at a time on a laptop, a click elsewhere or Escape closes it, and in the phone's menu
// every group is open.
const phone = window.matchMedia("(max-width: 1023px)");
const navGroups = () => document.querySelectorAll("header .nav details");
const layoutNav = () => navGroups().forEach((group) => { group.open = phone.matches; });
layoutNav();
phone.addEventListener("change", layoutNav);
document.addEventListener("toggle", (event) => {
  const group = event.target;
  if (phone.matches || !group.open || !group.matches || !group.matches("header .nav details")) return;
  navGroups().forEach((other) => { if (other !== group) other.open = false; });
}, true);
document.addEventListener("click", (event) => {
  if (phone.matches) return;
  navGroups().forEach((group) => { if (group.open && !group.contains(event.target)) group.open = false; });
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || phone.matches) return;
  navGroups().forEach((group) => {
    if (!group.open) return;
    group.open = false;
    if (group.contains(document.activeElement)) group.querySelector("summary").focus();
  });
});

// A table box that scrolls (wider than the page, or a report grid taller than its box) can be
// focused and scrolled with the keyboard, and is named after its table or section.
const boxName = (box) => {
  const table = box.querySelector("table");
  const before = box.previousElementSibling;
  const heading = (before && /^H[2-4]$/.test(before.tagName) ? before : null) ||
    box.closest("section, .card, fieldset")?.querySelector("h2, h3, legend") || document.querySelector("main h1");
  return (table?.getAttribute("aria-label") || table?.querySelector("caption")?.textContent || heading?.textContent || "Table")
    .trim().replace(/\s+/g, " ");
};
const markScrollBoxes = () => {
  const used = new Map();
  document.querySelectorAll(".table-wrap[aria-label]").forEach((box) => used.set(box.getAttribute("aria-label"), 1));
  document.querySelectorAll(".table-wrap").forEach((box) => {
    const scrolls = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
    if (scrolls && !box.hasAttribute("tabindex")) {
      // Each box's name is its own (landmarks must differ): "Offers (scrolls)", then "Offers 2 (scrolls)".
      let name = boxName(box) + " (scrolls)";
      const seen = used.get(name) || 0;
      used.set(name, seen + 1);
      if (seen) name = name.replace(/ \(scrolls\)$/, " " + (seen + 1) + " (scrolls)");
      box.dataset.scrollBox = box.hasAttribute("aria-label") ? "" : "named";
      box.tabIndex = 0;
      box.setAttribute("role", "region");
      if (box.dataset.scrollBox === "named") box.setAttribute("aria-label", name);
    } else if (!scrolls && box.hasAttribute("data-scroll-box")) {
      if (box.dataset.scrollBox === "named") box.removeAttribute("aria-label");
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("data-scroll-box");
    }
  });
};
let scrollBoxesQueued = false;
const queueScrollBoxes = () => {
  if (scrollBoxesQueued) return;
  scrollBoxesQueued = true;
  requestAnimationFrame(() => { scrollBoxesQueued = false; markScrollBoxes(); });
};
markScrollBoxes();
window.addEventListener("resize", queueScrollBoxes);
