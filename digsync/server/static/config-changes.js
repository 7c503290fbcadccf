// A config change as the YAML lines the user edited: from two configs, or from a JSON diff.

import { formatKeyPath } from "./keypath.js";
import { state } from "./state.js";

// A scalar as it reads in config.yaml: plain when YAML reads it back the same, else quoted.
function yamlScalar(value) {
  if (typeof value !== "string") return JSON.stringify(value);
  const plain = /^[A-Za-z_][\w./*@-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|~)$/i.test(value);
  return plain ? value : JSON.stringify(value);
}

function flatten(value, path, out) {
  if (value && typeof value === "object") {
    const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
    if (!keys.length) out.set(formatKeyPath(path), Array.isArray(value) ? "[]" : "{}");
    for (const k of keys) flatten(value[k], path.concat(k), out);
  } else if (path.length) {
    out.set(formatKeyPath(path), yamlScalar(value));
  }
  return out;
}

// [{path, old, new}] from two config objects (when the API gives them) or from the
// unified diff of the configs as JSON that the audit log keeps.
export function configChanges(entry) {
  const before = entry.before !== undefined ? entry.before : entry.old;
  const after = entry.after !== undefined ? entry.after : entry.new;
  if (before && typeof before === "object" && after && typeof after === "object") {
    const a = flatten(before, [], new Map());
    const b = flatten(after, [], new Map());
    const paths = [...new Set([...a.keys(), ...b.keys()])];
    return paths.filter((k) => a.get(k) !== b.get(k)).map((k) => ({ path: k, old: a.get(k), new: b.get(k) }));
  }
  return typeof entry.diff === "string" && entry.diff ? changesFromJsonDiff(entry.diff) : [];
}

// Parent keys the hunk does not show, from the config on the page: the one path of the
// right depth that ends in the keys seen and holds `key`.
function completePath(seen, depth, key) {
  const known = Array.from({ length: depth }, (_, i) => seen[i]);
  if (known.every((k) => k !== undefined)) return known;
  const found = [];
  const walk = (node, path) => {
    if (found.length > 1 || !node || typeof node !== "object") return;
    if (path.length === depth) {
      if (key === null || Object.prototype.hasOwnProperty.call(node, key)) found.push(path);
      return;
    }
    for (const k of Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node)) {
      const want = known[path.length];
      if (want !== undefined && want !== k) continue;
      walk(node[k], path.concat(k));
    }
  };
  walk(state.original || state.config, []);
  if (found.length === 1) return found[0];
  return known.map((k) => (k === undefined ? "…" : k));
}

// Each side of the diff (context and "-" lines, context and "+" lines) is a piece of
// the JSON text: walk it, keeping the key path, and note the leaves its own lines hold.
function sideOfJsonDiff(text, mine, order) {
  const leaves = new Map();
  let known = []; // known[d]: the key (or index) at depth d, as far as the hunk shows
  let counters = []; // counters[d]: the next index in the array whose items sit at depth d
  for (const raw of text.split("\n")) {
    if (raw.startsWith("---") || raw.startsWith("+++") || raw === "") continue;
    if (raw.startsWith("@@")) {
      known = [];
      counters = [];
      continue;
    }
    const sign = raw[0];
    if (sign !== " " && sign !== mine) continue;
    const line = raw.slice(1);
    const depth = Math.floor((line.length - line.trimStart().length) / 2);
    let body = line.trim().replace(/,$/, "");
    if (/^[}\]]$/.test(body) || (body === "{" && depth === 0)) continue;
    if (depth < 1) continue;
    let key = null;
    const m = /^("(?:[^"\\]|\\.)*"):\s?(.*)$/.exec(body);
    counters = counters.slice(0, depth + 1);
    if (m) {
      try {
        key = JSON.parse(m[1]);
      } catch (_) {
        key = m[1];
      }
      body = m[2];
    } else if (typeof counters[depth] === "number") {
      key = counters[depth]++;
    }
    known = completePath(known.slice(0, depth - 1), depth - 1, typeof key === "string" ? key : null);
    known[depth - 1] = key === null ? "[]" : key;
    if (body === "{" || body === "[") {
      counters[depth + 1] = body === "[" ? 0 : undefined;
      continue;
    }
    if (sign === " ") continue;
    let value;
    try {
      value = yamlScalar(JSON.parse(body));
    } catch (_) {
      value = body;
    }
    const path = formatKeyPath(known).replace(/\.\[\]/g, "[]");
    if (!order.includes(path)) order.push(path);
    leaves.set(path, value);
  }
  return leaves;
}

function changesFromJsonDiff(text) {
  const order = [];
  const removed = sideOfJsonDiff(text, "-", order);
  const added = sideOfJsonDiff(text, "+", order);
  return order
    .filter((k) => removed.get(k) !== added.get(k))
    .map((k) => ({ path: k, old: removed.get(k), new: added.get(k) }));
}
