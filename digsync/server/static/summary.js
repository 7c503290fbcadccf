// The error summary: every problem, errors first, with links to the fields.

import { $, code, el } from "./dom.js";
import { state } from "./state.js";

export function renderSummary(placed, options) {
  const summary = $("error-summary");
  // An error with no field to show it next to is only visible in the summary.
  const orphan = placed.some((x) => !x.target && x.problem.severity !== "warning");
  const show = options.summary || orphan || (state.summaryShown && placed.length > 0);
  const errors = placed.filter((x) => x.problem.severity !== "warning");
  if (!show || !placed.length) {
    summary.hidden = true;
    state.summaryShown = false;
    return;
  }
  const list = $("error-summary-list");
  list.replaceChildren();
  $("error-summary-heading").textContent = errors.length
    ? errors.length === 1
      ? "1 problem stops the save"
      : errors.length + " problems stop the save"
    : "Warnings";
  // Errors first, then warnings; each in the order the server gave them.
  const ordered = errors.concat(placed.filter((x) => x.problem.severity === "warning"));
  for (const { problem, target } of ordered) {
    const label = target ? labelOf(target) : "";
    const kind = problem.severity === "warning" ? "Warning" : "Error";
    const hint = problem.hint ? " (" + problem.hint + ")" : "";
    const text = (label ? label + ": " : "") + problem.message + hint;
    const item = el(
      "li",
      { className: "summary-" + kind.toLowerCase() },
      el("strong", { text: kind + ": " })
    );
    if (target) {
      const link = el("a", { href: "#" + target.id, text });
      link.addEventListener("click", (e) => {
        e.preventDefault();
        focusField(target);
      });
      item.append(link);
    } else {
      item.append(text);
    }
    if (problem.key_path) item.append(" ", code(problem.key_path));
    list.append(item);
  }
  summary.hidden = false;
  state.summaryShown = true;
  if (options.focus) summary.focus();
}

function labelOf(target) {
  if (target.tagName === "FIELDSET") {
    const legend = target.querySelector("legend");
    return legend ? legend.textContent : "";
  }
  const label = document.querySelector('label[for="' + target.id + '"]');
  return label ? label.textContent : "";
}

function focusField(target) {
  const focusable =
    target.tagName === "FIELDSET" || target.tagName === "DIV"
      ? target.querySelector("input, select, textarea, button")
      : target;
  (focusable || target).focus();
  target.scrollIntoView({ block: "center" });
}
