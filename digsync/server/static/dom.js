// Small DOM helpers: data goes in through textContent and attributes, never as HTML.

export const $ = (id) => document.getElementById(id);

export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name === "hidden") node.hidden = true;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function hiddenText(text) {
  return el("span", { className: "visually-hidden", text });
}

export function code(text) {
  return el("code", { text });
}

export function isShown(node) {
  return node.isConnected && !node.closest("[hidden]");
}

export function ensureOption(select, value) {
  if ([...select.options].some((o) => o.value === value)) return;
  select.append(el("option", { value, text: value + " (not recognised)" }));
}
