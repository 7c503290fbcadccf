// The result panel in the action bar: the outcome of a save or a rollback.

import { $ } from "./dom.js";

export function showResult(kind, heading, body, focus) {
  const panel = $("result");
  panel.className = "panel panel-" + (kind === "success" ? "success" : "error");
  panel.setAttribute("role", kind === "success" ? "status" : "alert");
  $("result-heading").textContent = (kind === "success" ? "✓ " : "⚠ ") + heading;
  $("result-body").replaceChildren(...body.filter(Boolean));
  panel.hidden = false;
  panel.scrollTop = 0;
  // The result is in the sticky action bar, on screen already: focus without a jump.
  if (focus) panel.focus({ preventScroll: true });
}

export function hideResult() {
  $("result").hidden = true;
}
