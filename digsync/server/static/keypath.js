// Key paths: "notifications.on_error.channels[0].channel" <-> segments, and access by them.

export function parseKeyPath(text) {
  const segments = [];
  const re = /([^.[\]]+)|\[(\d+)\]/g;
  let match;
  while ((match = re.exec(text || "")) !== null) {
    segments.push(match[2] !== undefined ? Number(match[2]) : match[1]);
  }
  return segments;
}

export function formatKeyPath(segments) {
  let out = "";
  for (const part of segments) {
    if (typeof part === "number") out += "[" + part + "]";
    else out += out ? "." + part : part;
  }
  return out;
}

export function getPath(obj, segments) {
  let node = obj;
  for (const part of segments) {
    if (node === null || typeof node !== "object") return undefined;
    node = node[part];
  }
  return node;
}

export function setPath(obj, segments, value) {
  let node = obj;
  segments.slice(0, -1).forEach((part, i) => {
    const next = segments[i + 1];
    if (node[part] === null || typeof node[part] !== "object") {
      node[part] = typeof next === "number" ? [] : {};
    }
    node = node[part];
  });
  node[segments[segments.length - 1]] = value;
}

export function deletePath(obj, segments) {
  const parent = getPath(obj, segments.slice(0, -1));
  if (parent && typeof parent === "object") delete parent[segments[segments.length - 1]];
}
