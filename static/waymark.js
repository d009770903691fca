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
