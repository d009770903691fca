// The flow editor's "Add a rule / lander / offer" without a round trip: a copy of the table's
// last row, emptied and renumbered. Without this script the same buttons ask the server.
document.addEventListener("click", (event) => {
  const button = event.target.closest("form.flow-editor button[data-add-row]");
  if (!button) return;
  const kind = button.dataset.addRow;
  const path = button.closest("fieldset.flow-path");
  const body = path && path.querySelector("table." + kind + " tbody");
  const last = body && body.lastElementChild;
  if (!last) return; // no row to copy: the server adds one
  const pattern = new RegExp("\\[" + kind + "\\]\\[(\\d+)\\]");
  let next = 0;
  body.querySelectorAll("[name]").forEach((field) => {
    const match = field.name.match(pattern);
    if (match) next = Math.max(next, Number(match[1]) + 1);
  });
  event.preventDefault();
  const row = last.cloneNode(true);
  row.querySelectorAll(".field-error").forEach((error) => error.remove());
  row.querySelectorAll("[name]").forEach((field) => {
    if (field.name === "action") return;
    field.name = field.name.replace(pattern, "[" + kind + "][" + next + "]");
    if (field.tagName === "SELECT") field.selectedIndex = 0;
    else field.value = "";
  });
  row.querySelectorAll("button[name=action]").forEach((rowButton) => {
    rowButton.value = rowButton.value.replace(/:(\d+)$/, ":" + next);
  });
  body.appendChild(row);
  const first = row.querySelector("select, input, textarea");
  if (first) first.focus();
});
