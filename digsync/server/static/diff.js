// The diff panel: what saving would change in the generated project, and its lint.

import { $, code, el } from "./dom.js";

export function renderDiffPanel(data, focus) {
  const panel = $("diff-panel");
  panel.hidden = false;
  const files = Array.isArray(data.files) ? data.files : [];
  $("diff-summary").textContent = data.changed
    ? "Saving changes the workflow and pushes a new revision of " + (data.project || "the project") + "."
    : "No change: the generated project is what the target already runs, so saving will not push.";
  $("diff-files").textContent = files.length
    ? files.length + " file(s) in the project: " + files.join(", ") + "."
    : "";
  const lint = $("lint-list");
  lint.replaceChildren();
  for (const f of data.lint || []) {
    const where = [f.path, f.line, f.column].filter((x) => x !== null && x !== undefined).join(":");
    lint.append(
      el(
        "li",
        { className: "lint-" + f.severity },
        el("strong", { text: (f.severity === "error" ? "Error" : "Warning") + " " }),
        code(f.code || ""),
        " " + where + ": " + f.message
      )
    );
  }
  renderDiff($("diff-output"), data.diff || "", "No differences.");
  $("dig-output").textContent = data.dig || "";
  if (focus) $("diff-heading").focus();
}

function renderDiff(pre, text, emptyText) {
  pre.replaceChildren();
  if (!text) {
    pre.append(el("span", { className: "diff-line diff-empty", text: emptyText }));
    return;
  }
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (const line of lines) {
    let kind = "context";
    let tag = "span";
    if (line.startsWith("+++") || line.startsWith("---")) kind = "file";
    else if (line.startsWith("@@")) kind = "hunk";
    else if (line.startsWith("+")) [kind, tag] = ["added", "ins"];
    else if (line.startsWith("-")) [kind, tag] = ["removed", "del"];
    pre.append(el(tag, { className: "diff-line diff-" + kind, text: line + "\n" }));
  }
}
