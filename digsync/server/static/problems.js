// Problems next to their fields: the error slots, aria-invalid and aria-describedby.

import { errorText } from "./api.js";
import { $, el, isShown } from "./dom.js";
import { stableJson } from "./json.js";
import { formatKeyPath, parseKeyPath } from "./keypath.js";
import { state } from "./state.js";
import { renderSummary } from "./summary.js";

function fieldFor(keyPath, message) {
  const byPath = new Map();
  for (const node of document.querySelectorAll("#config-form [data-key-path]")) {
    if (!byPath.has(node.dataset.keyPath)) byPath.set(node.dataset.keyPath, node);
  }
  const exact = byPath.get(keyPath);
  if (exact && isShown(exact) && !isContainer(exact)) return exact;
  if (exact && isShown(exact)) return namedChild(exact, message) || exact;
  let segments = parseKeyPath(keyPath);
  while (segments.length > 1) {
    segments = segments.slice(0, -1);
    const node = byPath.get(formatKeyPath(segments));
    if (node && isShown(node)) return node;
  }
  return null;
}

function isContainer(node) {
  return node.tagName === "FIELDSET" || node.tagName === "DIV";
}

// "frequency 'custom' needs cron_expression": the problem is about a field inside.
function namedChild(container, message) {
  const at = (message || "").indexOf("needs");
  if (at < 0) return null;
  const words = message.slice(at).match(/[a-z_]+/g) || [];
  const inputs = [...container.querySelectorAll("input[data-key-path], select[data-key-path]")];
  for (const word of words) {
    const hit = inputs.find((n) => isShown(n) && n.dataset.keyPath.endsWith("." + word));
    if (hit) return hit;
  }
  return null;
}

function errorSlot(target) {
  const id = (target.id || "field-" + Math.random().toString(36).slice(2)) + "-error";
  if (!target.id) target.id = id.slice(0, -"-error".length);
  let slot = $(id);
  if (!slot) {
    slot = el("p", { className: "field-error", id, hidden: true });
    if (target.tagName === "FIELDSET") {
      target.querySelector("legend").after(slot);
    } else {
      const field = target.closest(".field") || target.parentElement;
      field.append(slot);
    }
  }
  return slot;
}

export function problemText(p) {
  const prefix = p.severity === "warning" ? "Warning: " : "Error: ";
  return prefix + p.message + (p.hint ? " (" + p.hint + ")" : "");
}

function clearFieldErrors() {
  for (const node of document.querySelectorAll("[data-error-for]")) {
    const target = $(node.dataset.errorFor);
    if (target) {
      target.removeAttribute("aria-invalid");
      const ids = (target.getAttribute("aria-describedby") || "")
        .split(" ")
        .filter((x) => x && x !== node.id);
      if (ids.length) target.setAttribute("aria-describedby", ids.join(" "));
      else target.removeAttribute("aria-describedby");
      target.classList.remove("has-error", "has-warning");
    }
    node.removeAttribute("data-error-for");
    node.replaceChildren();
    node.hidden = true;
  }
}

export function problemsFrom(data) {
  if (data && Array.isArray(data.problems)) return data.problems;
  const lines = data && Array.isArray(data.error) ? data.error : [errorText(data)];
  return lines.map((line) => {
    const m = /^([A-Za-z_][\w.[\]]*): (.*)$/.exec(line);
    return m
      ? { key_path: m[1], message: m[2], severity: "error" }
      : { key_path: "", message: line, severity: "error" };
  });
}

// Show problems next to their fields; the summary lists them with links to the fields.
export function showProblems(problems, options) {
  // The same problems again (a live preview after a save): keep the DOM, links and all.
  const signature = stableJson(problems);
  if (signature === state.problemsSignature && !options.summary && !options.focus) return;
  state.problemsSignature = signature;
  clearFieldErrors();
  state.problems = problems;
  const placed = [];
  const byTarget = new Map();
  for (const p of problems) {
    const target = p.key_path ? fieldFor(p.key_path, p.message) : null;
    placed.push({ problem: p, target });
    if (!target) continue;
    if (!byTarget.has(target)) byTarget.set(target, []);
    byTarget.get(target).push(p);
  }
  for (const [target, list] of byTarget) {
    const slot = errorSlot(target);
    slot.dataset.errorFor = target.id;
    const errors = list.filter((p) => p.severity !== "warning");
    slot.classList.toggle("is-warning", errors.length === 0);
    for (const p of list) slot.append(el("span", { className: "problem-line", text: problemText(p) }));
    slot.hidden = false;
    if (errors.length) target.setAttribute("aria-invalid", "true");
    target.classList.add(errors.length ? "has-error" : "has-warning");
    const ids = (target.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (!ids.includes(slot.id)) ids.push(slot.id);
    target.setAttribute("aria-describedby", ids.join(" "));
  }
  renderSummary(placed, options);
}
