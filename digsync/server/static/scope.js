// The scope lists: database patterns and exclude patterns, one text field per item.

import { announce } from "./announce.js";
import { $, el, hiddenText } from "./dom.js";
import { edited } from "./edited.js";
import { formatKeyPath, getPath, setPath } from "./keypath.js";
import { state } from "./state.js";

export const LISTS = [
  { key: "databases", id: "databases", label: "Database pattern" },
  { key: "exclude_patterns", id: "excludes", label: "Exclude pattern" },
];

export function renderList(spec, focusIndex) {
  state.problemsSignature = null;
  const items = getPath(state.config, ["scope", spec.key]);
  const values = Array.isArray(items) ? items : [];
  const list = $(spec.id + "-list");
  list.replaceChildren();
  values.forEach((value, i) => {
    const id = spec.id + "-" + i;
    const input = el("input", {
      type: "text",
      id,
      autocomplete: "off",
      spellcheck: "false",
      "data-key-path": formatKeyPath(["scope", spec.key, i]),
      "aria-describedby": spec.id + "-hint",
    });
    input.value = typeof value === "string" ? value : String(value);
    input.addEventListener("input", () => {
      const current = getPath(state.config, ["scope", spec.key]);
      current[i] = input.value;
      edited();
    });
    const remove = el(
      "button",
      { type: "button", className: "button button-small button-quiet" },
      "Remove",
      hiddenText(" " + spec.label.toLowerCase() + " " + (i + 1))
    );
    remove.addEventListener("click", () => {
      const current = getPath(state.config, ["scope", spec.key]);
      const removed = current.splice(i, 1)[0];
      renderList(spec, Math.min(i, current.length - 1));
      announce("Removed " + spec.label.toLowerCase() + " " + (i + 1) + " (" + removed + ").");
      edited();
    });
    list.append(
      el(
        "li",
        { className: "field list-item" },
        el("label", { for: id, text: spec.label + " " + (i + 1) }),
        el("div", { className: "list-row" }, input, remove)
      )
    );
  });
  if (focusIndex !== undefined) {
    const target = focusIndex >= 0 ? $(spec.id + "-" + focusIndex) : $(spec.id + "-add");
    if (target) target.focus();
  }
}

export function bindScope() {
  for (const spec of LISTS) {
    $(spec.id + "-add").addEventListener("click", () => {
      const current = getPath(state.config, ["scope", spec.key]);
      const values = Array.isArray(current) ? current : [];
      values.push("");
      setPath(state.config, ["scope", spec.key], values);
      renderList(spec, values.length - 1);
      edited();
    });
  }
}
