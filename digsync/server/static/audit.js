// The audit log: who changed what and when, with each config change as YAML lines.

import { withoutShellHint } from "./advice.js";
import { configChanges } from "./config-changes.js";
import { formatTime } from "./dates.js";
import { $, code, el } from "./dom.js";

export function renderAudit(audit) {
  const body = $("audit-body");
  if (!audit.length) {
    body.replaceChildren(el("p", { className: "muted", text: "No changes recorded yet." }));
    return;
  }
  const items = audit.map((entry) => {
    const li = el(
      "li",
      { className: "audit-entry" },
      el(
        "p",
        {},
        el("time", { datetime: entry.time || "", text: formatTime(entry.time) }),
        " ",
        el("strong", { text: entry.who || "?" }),
        " " + (entry.action || "") + (entry.result ? ": " + entry.result : ""),
        entry.revision ? " " : "",
        entry.revision ? code(entry.revision) : ""
      )
    );
    if (entry.message) li.append(el("p", { className: "muted", text: withoutShellHint(entry.message) }));
    const changes = configChanges(entry);
    if (changes.length) {
      const list = el("ul", { className: "yaml-change", tabindex: "0", "aria-label": "Changed settings" });
      const shown = changes.slice(0, 60);
      for (const c of shown) {
        list.append(
          el(
            "li",
            { className: "yaml-line" },
            el("span", { className: "yaml-key", text: c.path + ": " }),
            c.old === undefined ? el("span", { className: "muted", text: "(not set)" }) : el("del", { text: c.old }),
            " → ",
            c.new === undefined ? el("span", { className: "muted", text: "(removed)" }) : el("ins", { text: c.new })
          )
        );
      }
      if (changes.length > shown.length) {
        list.append(el("li", { className: "muted", text: "… and " + (changes.length - shown.length) + " more" }));
      }
      li.append(el("details", {}, el("summary", { text: "Config change" }), list));
    }
    return li;
  });
  body.replaceChildren(el("ol", { className: "audit-list", id: "audit-list" }, ...items));
}
