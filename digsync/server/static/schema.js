// The schema: the one list of allowed values, from the served /openapi.json.

import { getPath } from "./keypath.js";
import { renderFrequencyOptions } from "./schedule.js";
import { state } from "./state.js";
import { renderSyncModeOptions } from "./sync-mode.js";

// Every enum in components.schemas.Config by key path ("sync.schedule.frequency").
function collectEnums(schema, root, path, out, depth) {
  if (!schema || typeof schema !== "object" || depth > 12) return out;
  if (typeof schema.$ref === "string" && schema.$ref.startsWith("#/")) {
    schema = getPath(root, schema.$ref.slice(2).split("/")) || {};
  }
  if (Array.isArray(schema.enum) && path.length) out[path.join(".")] = schema.enum.map(String);
  for (const [key, sub] of Object.entries(schema.properties || {})) {
    collectEnums(sub, root, path.concat(key), out, depth + 1);
  }
  if (schema.items) collectEnums(schema.items, root, path, out, depth + 1);
  for (const list of ["anyOf", "oneOf", "allOf"]) {
    for (const sub of schema[list] || []) collectEnums(sub, root, path, out, depth + 1);
  }
  return out;
}

export async function loadSchema() {
  let doc = null;
  try {
    const response = await fetch("/openapi.json", { cache: "no-store", credentials: "same-origin" });
    if (response.ok) doc = await response.json();
  } catch (_) {
    doc = null;
  }
  const config = doc && getPath(doc, ["components", "schemas", "Config"]);
  state.enums = config ? collectEnums(config, doc, [], {}, 0) : {};
  renderEnumOptions();
}

function enumOf(keyPath) {
  return state.enums[keyPath] || [];
}

function renderEnumOptions() {
  renderFrequencyOptions(enumOf("sync.schedule.frequency"));
  renderSyncModeOptions(enumOf("sync.sync_mode"));
}
