// digsync web UI: edit config.yaml through the Config API (docs/api.md).
// No framework and no build step. Every piece of data goes into the page through
// textContent or attributes, never as HTML; a strict CSP (default-src 'self') applies.
"use strict";

(function () {
  const API = "/api/semantic-layer";
  const TOKEN_KEY = "digsync.apiToken";
  const PREVIEW_DELAY_MS = 300;
  const DAY_FREQUENCIES = ["daily", "weekly", "monthly"];
  const SCHEDULE_DEFAULTS = {
    enabled: true,
    frequency: "daily",
    time: "02:00:00",
    day_of_week: "Monday",
    day_of_month: 1,
    interval_minutes: 60,
    timezone: "UTC",
  };
  const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  // Labels for the values /openapi.json lists; a value it adds shows under its own name.
  const FREQUENCY_LABELS = {
    manual: "Manual (no schedule)",
    hourly: "Hourly",
    daily: "Daily",
    weekly: "Weekly",
    monthly: "Monthly",
    interval: "Every N minutes",
    custom: "Custom (cron)",
  };
  const SYNC_MODE_TEXT = {
    full: ["Full", "Every column, every run."],
    delta: ["Delta", "Only what changed since the last sync."],
  };
  const EVENTS = [
    { key: "on_error", title: "When a sync fails" },
    { key: "on_sync_complete", title: "When a sync completes" },
  ];

  const state = {
    config: null, // the whole config object being edited (unknown sections kept)
    original: null, // the config as loaded or last saved
    etag: null,
    previewSeq: 0,
    previewTimer: null,
    diffRequested: false,
    problems: [],
    problemsSignature: null,
    summaryShown: false,
    afterToken: null, // the write to repeat once a token is given
    saving: false,
    timeMemo: {}, // the time last used by hourly and by day-based frequencies
    confirmAction: null,
    enums: {}, // key path -> the values components.schemas.Config allows
    before: undefined, // the last schedule the server was known to run (a good preview)
    after: null,
    status: null, // the last good /status answer
  };

  const $ = (id) => document.getElementById(id);
  let memoryToken = ""; // the token when sessionStorage is unavailable

  // --- small DOM helpers ----------------------------------------------------------------

  function el(tag, props, ...children) {
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

  function hiddenText(text) {
    return el("span", { className: "visually-hidden", text });
  }

  function code(text) {
    return el("code", { text });
  }

  function announce(text) {
    const live = $("announcer");
    live.textContent = "";
    // A new text node in a later task is announced even when the text repeats.
    window.setTimeout(() => {
      live.textContent = text;
    }, 30);
  }

  function isShown(node) {
    return node.isConnected && !node.closest("[hidden]");
  }

  function formatTime(iso) {
    return typeof iso === "string" ? iso.replace("T", " ") : "";
  }

  function clone(value) {
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  }

  function stableJson(value) {
    if (Array.isArray(value)) return "[" + value.map(stableJson).join(",") + "]";
    if (value && typeof value === "object") {
      const keys = Object.keys(value).sort();
      return "{" + keys.map((k) => JSON.stringify(k) + ":" + stableJson(value[k])).join(",") + "}";
    }
    return JSON.stringify(value);
  }

  // --- key paths: "notifications.on_error.channels[0].channel" <-> segments -------------

  function parseKeyPath(text) {
    const segments = [];
    const re = /([^.[\]]+)|\[(\d+)\]/g;
    let match;
    while ((match = re.exec(text || "")) !== null) {
      segments.push(match[2] !== undefined ? Number(match[2]) : match[1]);
    }
    return segments;
  }

  function formatKeyPath(segments) {
    let out = "";
    for (const part of segments) {
      if (typeof part === "number") out += "[" + part + "]";
      else out += out ? "." + part : part;
    }
    return out;
  }

  function getPath(obj, segments) {
    let node = obj;
    for (const part of segments) {
      if (node === null || typeof node !== "object") return undefined;
      node = node[part];
    }
    return node;
  }

  function setPath(obj, segments, value) {
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

  function deletePath(obj, segments) {
    const parent = getPath(obj, segments.slice(0, -1));
    if (parent && typeof parent === "object") delete parent[segments[segments.length - 1]];
  }

  // --- the API --------------------------------------------------------------------------

  function readToken() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY) || "";
    } catch (_) {
      return "";
    }
  }

  function writeToken(token) {
    try {
      if (token) window.sessionStorage.setItem(TOKEN_KEY, token);
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (_) {
      // Storage can be off; the token then lasts until the page is reloaded.
    }
    memoryToken = token;
  }

  async function api(method, path, body, extraHeaders) {
    const headers = { Accept: "application/json", ...(extraHeaders || {}) };
    const token = readToken() || memoryToken;
    if (token) headers.Authorization = "Bearer " + token;
    const init = { method, headers, cache: "no-store", credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(API + path, init);
    } catch (err) {
      return {
        ok: false,
        status: 0,
        headers: new Headers(),
        data: {
          error: "Could not reach the digsync server",
          code: "network_error",
          details: String((err && err.message) || err),
        },
      };
    }
    let data = null;
    const text = await response.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (_) {
        data = { error: "The server sent an answer that is not JSON", details: text.slice(0, 300) };
      }
    }
    if (!response.ok && (data === null || typeof data !== "object")) {
      data = { error: response.status + " " + response.statusText, code: "http_error" };
    }
    return { ok: response.ok, status: response.status, headers: response.headers, data };
  }

  function errorText(data) {
    if (!data) return "Unknown error";
    if (Array.isArray(data.error)) return data.error.join("; ");
    return String(data.error || "Unknown error");
  }

  // A write answered 401: ask for the token, then repeat the write.
  function needToken(retry, rejected) {
    state.afterToken = retry;
    const panel = $("token-panel");
    panel.hidden = false;
    const err = $("token-error");
    const input = $("api-token");
    if (rejected) {
      err.textContent = "Error: the server did not accept this token.";
      err.hidden = false;
      input.setAttribute("aria-invalid", "true");
    } else {
      err.hidden = true;
      input.removeAttribute("aria-invalid");
    }
    announce("An API token is needed to make changes.");
    input.focus();
  }

  // --- the schema: the one list of allowed values ---------------------------------------

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

  async function loadSchema() {
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
    const select = $("schedule-frequency");
    select.replaceChildren(
      ...enumOf("sync.schedule.frequency").map((value) =>
        el("option", { value, text: FREQUENCY_LABELS[value] || value })
      )
    );
    const modes = $("sync-mode-options");
    modes.replaceChildren();
    for (const mode of enumOf("sync.sync_mode")) {
      const [label, hint] = SYNC_MODE_TEXT[mode] || [mode, ""];
      const id = "sync-mode-" + mode;
      const input = el("input", {
        type: "radio",
        name: "sync-mode",
        id,
        value: mode,
        "aria-describedby": hint ? id + "-hint" : null,
      });
      input.addEventListener("change", () => {
        if (input.checked) setPath(state.config, ["sync", "sync_mode"], mode);
        edited();
      });
      modes.append(
        el(
          "div",
          { className: "field field-check" },
          input,
          el("label", { for: id, text: label }),
          hint ? el("p", { className: "hint", id: id + "-hint", text: hint }) : null
        )
      );
    }
  }

  // --- loading --------------------------------------------------------------------------

  async function loadConfig(options) {
    const quiet = options && options.quiet;
    const form = $("config-form");
    form.setAttribute("aria-busy", "true");
    const r = await api("GET", "/config");
    if (!r.ok || !r.data || typeof r.data !== "object" || Array.isArray(r.data)) {
      $("load-error").hidden = false;
      const text = r.data ? errorText(r.data) : "Status " + r.status;
      $("load-error-text").textContent = text + (r.data && r.data.details ? ": " + r.data.details : "");
      return false;
    }
    $("load-error").hidden = true;
    state.config = r.data;
    state.original = clone(r.data);
    state.etag = r.headers.get("ETag");
    // What the stored time was written for: MM:SS (hourly) or HH:MM:SS (day-based).
    const frequency = scheduleValue("frequency");
    state.timeMemo = {
      kind: frequency === "hourly" ? "hour" : DAY_FREQUENCIES.includes(frequency) ? "day" : null,
    };
    renderForm();
    showProblems([], {});
    form.setAttribute("aria-busy", "false");
    updateDirty();
    schedulePreview(0);
    if (!quiet) announce("Config loaded.");
    return true;
  }

  // --- the form: schedule ---------------------------------------------------------------

  function schedule() {
    const s = getPath(state.config, ["sync", "schedule"]);
    return s && typeof s === "object" ? s : {};
  }

  function scheduleValue(key) {
    const value = schedule()[key];
    return value === undefined || value === null ? SCHEDULE_DEFAULTS[key] : value;
  }

  function setSchedule(key, value) {
    if (value === undefined) deletePath(state.config, ["sync", "schedule", key]);
    else setPath(state.config, ["sync", "schedule", key], value);
  }

  function defaultTime(frequency) {
    return frequency === "hourly" ? "00:00" : SCHEDULE_DEFAULTS.time;
  }

  function weekdayName(value) {
    if (typeof value === "number" && value >= 0 && value <= 7) return WEEKDAYS[value % 7];
    const text = String(value).trim().toLowerCase();
    return WEEKDAYS.find((d) => d.toLowerCase() === text || d.slice(0, 3).toLowerCase() === text);
  }

  function renderSchedule() {
    state.problemsSignature = null; // error slots must be placed again
    const frequency = shownFrequency();
    const select = $("schedule-frequency");
    ensureOption(select, frequency);
    select.value = frequency;
    const time = schedule().time;
    $("schedule-time").value = typeof time === "string" ? time : defaultTime(frequency);
    const day = scheduleValue("day_of_week");
    const daySelect = $("schedule-day-of-week");
    const name = weekdayName(day);
    ensureOption(daySelect, name || String(day));
    daySelect.value = name || String(day);
    $("schedule-day-of-month").value = String(scheduleValue("day_of_month"));
    $("schedule-interval").value = String(scheduleValue("interval_minutes"));
    $("schedule-cron").value = schedule().cron_expression || "";
    $("schedule-timezone").value = scheduleValue("timezone");
    updateScheduleFields();
  }

  function ensureOption(select, value) {
    if ([...select.options].some((o) => o.value === value)) return;
    select.append(el("option", { value, text: value + " (not recognised)" }));
  }

  // One control says whether it runs on a schedule: "enabled: false" shows as Manual.
  function shownFrequency() {
    return scheduleValue("enabled") === false ? "manual" : scheduleValue("frequency");
  }

  // Show only the fields that the chosen frequency uses (Manual needs no time zone).
  function updateScheduleFields() {
    const frequency = shownFrequency();
    const manual = frequency === "manual";
    for (const field of $("schedule-fieldset").querySelectorAll("[data-show]")) {
      const show = field.dataset.show;
      field.hidden = show === "scheduled" ? manual : !show.split(" ").includes(frequency);
    }
    $("schedule-frequency-hint").textContent = manual
      ? "No schedule: the workflow runs only when started by hand."
      : "";
    const hourly = frequency === "hourly";
    $("schedule-time-label").textContent = hourly
      ? "Minute and second past each hour (MM:SS)"
      : "Time of day (HH:MM:SS)";
    $("schedule-time-hint").textContent = hourly
      ? 'e.g. 15:00 runs at a quarter past every hour.'
      : "24-hour clock in the time zone below, e.g. 03:00:00.";
  }

  // Switching between hourly (MM:SS) and a day-based frequency (HH:MM:SS) converts the
  // time, so "03:00:00" does not silently become a minute, nor "15:00" an hour.
  function changeFrequency(frequency) {
    setSchedule("frequency", frequency);
    const time = schedule().time;
    if (typeof time === "string") {
      const parts = time.split(":");
      if (frequency === "hourly" && parts.length === 3) {
        state.timeMemo.day = time;
        setSchedule("time", state.timeMemo.hour || parts[1] + ":" + parts[2]);
      } else if (
        DAY_FREQUENCIES.includes(frequency) &&
        state.timeMemo.kind === "hour" &&
        parts.length === 2
      ) {
        state.timeMemo.hour = time;
        setSchedule("time", state.timeMemo.day || "00:" + time);
      }
    }
    if (frequency === "hourly") state.timeMemo.kind = "hour";
    else if (DAY_FREQUENCIES.includes(frequency)) state.timeMemo.kind = "day";
    const shown = schedule().time;
    $("schedule-time").value = typeof shown === "string" ? shown : defaultTime(frequency);
    updateScheduleFields();
  }

  function numberOrText(text) {
    if (text.trim() === "") return undefined;
    const n = Number(text);
    return Number.isFinite(n) ? n : text;
  }

  function bindSchedule() {
    $("schedule-frequency").addEventListener("change", (e) => {
      // A schedule switched off with "enabled: false" is switched on by any frequency.
      if (e.target.value !== "manual" && schedule().enabled === false) setSchedule("enabled", undefined);
      changeFrequency(e.target.value);
      edited();
    });
    const text = (id, key) =>
      $(id).addEventListener("input", (e) => {
        const value = e.target.value;
        setSchedule(key, value.trim() === "" ? undefined : value);
        edited();
      });
    text("schedule-time", "time");
    text("schedule-cron", "cron_expression");
    text("schedule-timezone", "timezone");
    $("schedule-day-of-week").addEventListener("change", (e) => {
      setSchedule("day_of_week", e.target.value);
      edited();
    });
    for (const [id, key] of [
      ["schedule-day-of-month", "day_of_month"],
      ["schedule-interval", "interval_minutes"],
    ]) {
      $(id).addEventListener("input", (e) => {
        setSchedule(key, numberOrText(e.target.value));
        edited();
      });
    }
    const zones = $("timezone-list");
    let names = ["UTC"];
    try {
      names = names.concat(Intl.supportedValuesOf("timeZone").filter((z) => z !== "UTC"));
    } catch (_) {
      names = names.concat(["Asia/Tokyo", "America/Los_Angeles", "America/New_York", "Europe/London"]);
    }
    for (const name of names) zones.append(el("option", { value: name }));
  }

  // --- the form: scope and sync mode -----------------------------------------------------

  const LISTS = [
    { key: "databases", id: "databases", label: "Database pattern" },
    { key: "exclude_patterns", id: "excludes", label: "Exclude pattern" },
  ];

  function renderList(spec, focusIndex) {
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

  function bindScope() {
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

  function renderSyncMode() {
    const mode = getPath(state.config, ["sync", "sync_mode"]) || "full";
    for (const input of document.querySelectorAll('input[name="sync-mode"]')) {
      input.checked = input.value === mode;
    }
  }

  // --- the form: notifications ----------------------------------------------------------

  function channelsOf(event) {
    const channels = getPath(state.config, ["notifications", event, "channels"]);
    return Array.isArray(channels) ? channels : [];
  }

  function renderNotifications(focus) {
    state.problemsSignature = null;
    for (const event of EVENTS) renderEvent(event);
    if (focus) {
      const target = $(focus);
      if (target) target.focus();
    }
  }

  function textField(id, label, value, keyPath, onInput, props) {
    const hintId = props && props.hint ? id + "-hint" : null;
    const input = el("input", {
      type: (props && props.type) || "text",
      id,
      autocomplete: "off",
      spellcheck: "false",
      "data-key-path": keyPath,
      "aria-describedby": hintId,
      placeholder: props && props.placeholder,
    });
    input.value = value;
    input.addEventListener("input", () => onInput(input.value));
    return el(
      "div",
      { className: "field" },
      el("label", { for: id, text: label }),
      input,
      hintId ? el("p", { className: "hint", id: hintId, text: props.hint }) : null
    );
  }

  function renderEvent(event) {
    const base = ["notifications", event.key];
    const prefix = "notify-" + event.key;
    const channels = channelsOf(event.key);
    const enabled = el("input", {
      type: "checkbox",
      id: prefix + "-enabled",
      "data-key-path": formatKeyPath([...base, "enabled"]),
    });
    enabled.checked = getPath(state.config, [...base, "enabled"]) === true;
    enabled.addEventListener("change", () => {
      setPath(state.config, [...base, "enabled"], enabled.checked);
      edited();
    });
    const group = el(
      "fieldset",
      { className: "subgroup", id: prefix + "-group", "data-key-path": formatKeyPath(base) },
      el("legend", { text: event.title }),
      el(
        "div",
        { className: "field field-check" },
        enabled,
        el("label", { for: prefix + "-enabled", text: "Send notifications" })
      )
    );
    const list = el("div", {
      className: "channels",
      "data-key-path": formatKeyPath([...base, "channels"]),
      id: prefix + "-channels",
    });
    channels.forEach((ch, i) => list.append(renderChannel(event, ch, i)));
    if (!channels.length) list.append(el("p", { className: "muted", text: "No channels yet." }));
    group.append(list);
    const add = (type, label) => {
      const button = el("button", {
        type: "button",
        className: "button button-small",
        id: prefix + "-add-" + type,
        text: label,
      });
      button.addEventListener("click", () => {
        const current = channelsOf(event.key);
        current.push({ type, recipients: [] });
        setPath(state.config, [...base, "channels"], current);
        renderNotifications(prefix + "-" + (current.length - 1) + "-recipients");
        announce("Added channel " + current.length + ".");
        edited();
      });
      return button;
    };
    // Slack webhooks are set in config.yaml on the server: the API cannot add one.
    group.append(el("div", { className: "button-row" }, add("email", "Add an email channel")));
    $(prefix).replaceChildren(group);
  }

  function renderChannel(event, ch, i) {
    const base = ["notifications", event.key, "channels", i];
    const path = formatKeyPath(base);
    const id = "notify-" + event.key + "-" + i;
    const type = ch && ch.type === "email" ? "email" : ch && ch.type === "slack" ? "slack" : ch && ch.type;
    const box = el(
      "fieldset",
      { className: "channel", id: id + "-group", "data-key-path": path },
      el("legend", { text: "Channel " + (i + 1) })
    );

    // A Slack channel is shown, not edited: its webhook is set in config.yaml on the server.
    const typeSelect = el(
      "select",
      { id: id + "-type", "data-key-path": formatKeyPath([...base, "type"]) },
      el("option", { value: type === "slack" ? "slack" : "email", text: type === "slack" ? "Slack" : "Email" })
    );
    if (type !== "slack" && type !== "email") ensureOption(typeSelect, String(type));
    typeSelect.value = String(type);
    typeSelect.disabled = true;
    box.append(
      el("div", { className: "field" }, el("label", { for: id + "-type", text: "Type" }), typeSelect)
    );

    if (type === "slack") {
      box.append(slackSummary(ch, id));
      return box;
    }
    if (type === "email") box.append(...emailFields(ch, base, id));

    const remove = el(
      "button",
      { type: "button", className: "button button-small button-quiet", id: id + "-remove" },
      "Remove channel " + (i + 1)
    );
    remove.addEventListener("click", () => {
      channelsOf(event.key).splice(i, 1);
      renderNotifications("notify-" + event.key + "-add-email");
      announce("Removed channel " + (i + 1) + ".");
      edited();
    });
    box.append(el("div", { className: "button-row" }, remove));
    return box;
  }

  function slackSummary(ch, id) {
    const where =
      typeof ch.secret === "string" && ch.channel === undefined
        ? "Posts to the webhook in the project secret " + ch.secret + "."
        : "Posts to a webhook URL that is stored on the server and never shown.";
    return el(
      "p",
      { className: "hint", id: id + "-webhook" },
      where + " Slack channels are set in config.yaml on the server, not here."
    );
  }

  function emailFields(ch, base, id) {
    const recipients = Array.isArray(ch.recipients) ? ch.recipients.join(", ") : "";
    const to = textField(
      id + "-recipients",
      "Recipients",
      recipients,
      formatKeyPath([...base, "recipients"]),
      (value) => {
        ch.recipients = value.split(/[\s,;]+/).filter(Boolean);
        edited();
      },
      { hint: "Email addresses, separated by commas." }
    );
    const subject = textField(
      id + "-subject",
      "Subject",
      typeof ch.subject === "string" ? ch.subject : "",
      formatKeyPath([...base, "subject"]),
      (value) => {
        if (value === "") delete ch.subject;
        else ch.subject = value;
        edited();
      },
      { hint: "Optional. Digdag variables such as ${session_time} may be used." }
    );
    return [to, subject];
  }

  function renderForm() {
    renderSchedule();
    for (const spec of LISTS) renderList(spec);
    renderSyncMode();
    renderNotifications();
  }

  // --- what is sent ---------------------------------------------------------------------

  function buildPayload() {
    return clone(state.config);
  }

  function isDirty() {
    return state.config !== null && stableJson(state.config) !== stableJson(state.original);
  }

  // Save & push is off until the draft differs from the config as loaded or last saved.
  function updateDirty() {
    const dirty = isDirty();
    $("dirty-note").textContent = dirty ? "Unsaved changes" : "";
    $("save-button").disabled = !dirty;
    $("save-hint").textContent = dirty ? "" : "Nothing to save: the form matches config.yaml.";
  }

  function edited() {
    updateDirty();
    schedulePreview(PREVIEW_DELAY_MS);
  }

  // --- errors next to their fields ------------------------------------------------------

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

  function problemText(p) {
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

  function problemsFrom(data) {
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
  function showProblems(problems, options) {
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

  function renderSummary(placed, options) {
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

  // --- live preview: description, next runs, diff ---------------------------------------

  function schedulePreview(delay) {
    window.clearTimeout(state.previewTimer);
    state.previewTimer = window.setTimeout(() => runPreview(false), delay);
  }

  async function runPreview(fromButton) {
    window.clearTimeout(state.previewTimer);
    if (state.config === null) return;
    const seq = ++state.previewSeq;
    $("schedule-preview-state").textContent = "Updating…";
    $("schedule-preview").setAttribute("aria-busy", "true");
    const r = await api("POST", "/preview", buildPayload());
    if (seq !== state.previewSeq) {
      // A newer preview is on its way: this answer is stale. Counted for the tests.
      const box = $("schedule-preview");
      box.dataset.dropped = String(Number(box.dataset.dropped || 0) + 1);
      return;
    }
    previewDone(seq);
    if (r.ok && r.data) {
      showProblems(r.data.warnings || [], { summary: false });
      renderSchedulePreview(r.data.schedule || {});
      $("schedule-preview-state").textContent = "";
      if (r.data.project) setProject(r.data.project, null);
      if (fromButton || !$("diff-panel").hidden) renderDiffPanel(r.data, fromButton);
      if (fromButton) {
        announce(r.data.changed ? "Preview ready: the workflow changes." : "Preview ready: no change.");
      }
    } else if (r.status === 400) {
      clearAfter();
      $("schedule-preview-state").textContent = "Fix the problems shown in the form to see the runs.";
      showProblems(problemsFrom(r.data), { summary: fromButton, focus: fromButton });
      if (fromButton) $("diff-panel").hidden = true;
    } else if (r.status === 401) {
      $("schedule-preview-state").textContent = "The preview needs an API token.";
      needToken(() => runPreview(fromButton), Boolean(readToken() || memoryToken));
    } else {
      $("schedule-preview-state").textContent =
        "Preview failed: " + errorText(r.data) + (r.data.details ? " (" + r.data.details + ")" : "");
    }
  }

  function previewDone() {
    $("schedule-preview").setAttribute("aria-busy", "false");
  }

  // The draft is invalid: only "after" is unknown. What runs now stays as it was.
  function clearAfter() {
    state.after = null;
    $("schedule-after-description").textContent = "";
    $("schedule-after-runs").replaceChildren();
    renderBefore();
    renderWeek();
  }

  function renderSchedulePreview(sched) {
    state.before = sched.before || null;
    state.after = sched.after || null;
    renderRuns("after", state.after, "No schedule: manual runs only.");
    renderBefore();
    renderWeek();
  }

  // "Now" is the last schedule the server was known to run: from the last good preview,
  // never emptied by a draft the server cannot preview.
  function renderBefore() {
    if (state.before === undefined) return; // not known yet
    renderRuns("before", state.before, "Nothing pushed yet.");
  }

  function renderRuns(which, sched, empty) {
    const description = $("schedule-" + which + "-description");
    const list = $("schedule-" + which + "-runs");
    list.replaceChildren();
    if (!sched) {
      description.textContent = empty;
      return;
    }
    description.textContent = sched.description || empty;
    const format = runFormatter(sched.timezone);
    const now = Date.now();
    for (const run of sched.next_runs || []) {
      const at = new Date(run.run_time);
      const session = new Date(run.session_time);
      const li = el(
        "li",
        { className: "run" },
        el("time", { className: "run-when", datetime: run.run_time, text: format(at, run.run_time) }),
        el("span", { className: "run-rel", text: " · " + relative(at.getTime() - now) })
      );
      if (!Number.isNaN(session.getTime())) {
        li.append(
          el(
            "span",
            { className: "session" },
            "session " + format(session, run.session_time)
          )
        );
      }
      list.append(li);
    }
  }

  // --- dates as a person reads them: "Mon 7 Dec 03:00 GMT+9 · in 6 h" ---------------------

  function isoOffset(iso) {
    const m = /([+-]\d\d:?\d\d|Z)$/.exec(iso || "");
    if (!m || m[1] === "Z") return 0;
    const sign = m[1][0] === "-" ? -1 : 1;
    const digits = m[1].slice(1).replace(":", "");
    return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
  }

  function offsetName(minutes) {
    if (!minutes) return "UTC";
    const a = Math.abs(minutes);
    const hm = String(Math.floor(a / 60)).padStart(2, "0") + ":" + String(a % 60).padStart(2, "0");
    return "UTC" + (minutes < 0 ? "-" : "+") + hm;
  }

  const formatters = new Map();

  // format(date, iso): the run in the schedule's time zone (Intl.DateTimeFormat). An
  // offset zone ("+09:00") Intl does not know is shown from the wall clock of the ISO text.
  function runFormatter(timezone) {
    const key = String(timezone || "UTC");
    if (formatters.has(key)) return formatters.get(key);
    const options = {
      weekday: "short",
      day: "numeric",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    };
    let intl = null;
    let named = true;
    try {
      intl = new Intl.DateTimeFormat("en-GB", { ...options, timeZone: key, timeZoneName: "short" });
    } catch (_) {
      named = false;
      intl = new Intl.DateTimeFormat("en-GB", { ...options, timeZone: "UTC" });
    }
    const format = (date, iso) => {
      if (Number.isNaN(date.getTime())) return formatTime(iso);
      const offset = isoOffset(iso);
      const shown = named ? date : new Date(date.getTime() + offset * 60000);
      const part = {};
      for (const p of intl.formatToParts(shown)) part[p.type] = p.value;
      const seconds = part.second && part.second !== "00" ? ":" + part.second : "";
      const zone = named ? part.timeZoneName || key : offsetName(offset);
      return (
        part.weekday + " " + part.day + " " + part.month + " " +
        part.hour + ":" + part.minute + seconds + " " + zone
      );
    };
    formatters.set(key, format);
    return format;
  }

  function relative(ms) {
    const minutes = Math.round(ms / 60000);
    if (minutes <= 0) return "now";
    if (minutes < 60) return "in " + minutes + " min";
    const hours = Math.round(minutes / 60);
    if (hours < 48) return "in " + hours + " h";
    return "in " + Math.round(hours / 24) + " d";
  }

  // --- the week strip: a 7-day timeline of runs, now and after ----------------------------

  const WEEK_MS = 7 * 86400000;
  const SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    return node;
  }

  // The runs of a schedule inside [start, end): the listed next runs, continued when
  // they repeat at one fixed interval (hourly, daily, every N minutes).
  function runsInWindow(sched, start, end) {
    const listed = ((sched && sched.next_runs) || [])
      .map((r) => new Date(r.run_time).getTime())
      .filter((t) => !Number.isNaN(t))
      .sort((a, b) => a - b);
    const times = listed.slice();
    let complete = listed.length === 0;
    if (listed.length >= 3) {
      const gaps = listed.slice(1).map((t, i) => t - listed[i]);
      const gap = gaps[0];
      if (gap > 0 && gaps.every((g) => g === gap)) {
        for (let t = listed[listed.length - 1] + gap; t < end && times.length < 5000; t += gap) {
          times.push(t);
        }
        complete = true;
      }
    }
    if (!complete && listed.length && listed[listed.length - 1] >= end) complete = true;
    return { times: times.filter((t) => t >= start && t < end), complete };
  }

  function renderWeek() {
    const body = $("week-strip-body");
    const text = $("week-strip-text");
    const reference = [state.after, state.before].find((x) => x && (x.next_runs || []).length);
    const offset = reference ? isoOffset(reference.next_runs[0].run_time) : 0;
    const now = Date.now();
    // Day columns start at midnight, today, in the schedule's time zone.
    const local = now + offset * 60000;
    const start = local - (local % 86400000) - offset * 60000;
    const end = start + WEEK_MS;
    const dayName = new Intl.DateTimeFormat("en-GB", { weekday: "short", day: "numeric", timeZone: "UTC" });
    const days = [];
    for (let i = 0; i < 7; i++) days.push(dayName.format(new Date(start + offset * 60000 + i * 86400000)));

    const head = el("div", { className: "week-days", "aria-hidden": "true" }, el("span"));
    for (const d of days) head.append(el("span", { text: d }));
    const rows = [head];
    const sentences = [];
    const shortTime = new Intl.DateTimeFormat("en-GB", {
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZone: "UTC",
    });
    for (const [which, label, sched, empty] of [
      ["now", "Now", state.before, "nothing pushed yet"],
      ["after", "After", state.after, "no scheduled runs"],
    ]) {
      const known = which === "now" ? state.before !== undefined : state.after !== null;
      const { times, complete } = runsInWindow(sched, start, end);
      const strip = svg("svg", {
        class: "week-row-svg",
        viewBox: "0 0 700 24",
        preserveAspectRatio: "none",
        "aria-hidden": "true",
        focusable: "false",
        "data-runs": times.length,
        id: "week-" + which,
      });
      strip.append(svg("rect", { x: 0, y: 0, width: 700, height: 24, class: "week-bg" }));
      for (let i = 1; i < 7; i++) {
        strip.append(svg("line", { x1: i * 100, x2: i * 100, y1: 0, y2: 24, class: "week-day-line" }));
      }
      const nowX = ((now - start) / WEEK_MS) * 700;
      strip.append(svg("line", { x1: nowX, x2: nowX, y1: 0, y2: 24, class: "week-now" }));
      for (const t of times) {
        const x = ((t - start) / WEEK_MS) * 700;
        strip.append(svg("rect", { x: x - 1, y: 4, width: 2, height: 16, class: "week-run week-run-" + which }));
      }
      rows.push(el("div", { className: "week-row" }, el("span", { className: "week-label", text: label }), strip));
      let sentence;
      if (!known) sentence = label + ": not known yet.";
      else if (!sched) sentence = label + ": " + empty + ".";
      else {
        const count = times.length + (complete ? "" : " or more");
        sentence = label + ": " + count + " run" + (times.length === 1 ? "" : "s") + " in the next 7 days";
        if (times.length && times.length <= 14) {
          sentence += " (" + times.map((t) => shortTime.format(new Date(t + offset * 60000))).join(", ") + ")";
        } else if (times.length > 14) {
          sentence += ", about " + Math.round(times.length / 7) + " a day";
        }
        sentence += ".";
      }
      sentences.push(sentence);
    }
    body.replaceChildren(...rows);
    text.textContent = "Runs in the next 7 days, from " + days[0] + " to " + days[6] + ". " + sentences.join(" ");
  }

  function renderDiffPanel(data, focus) {
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

  // --- save & push ----------------------------------------------------------------------

  async function save(options) {
    const adopt = Boolean(options && options.adopt);
    const confirmUndo = Boolean(options && options.confirmUndo);
    if (state.saving || state.config === null) return;
    // The save's answer supersedes any preview still pending or on its way.
    window.clearTimeout(state.previewTimer);
    state.previewSeq++;
    state.saving = true;
    const button = $("save-button");
    button.setAttribute("aria-disabled", "true");
    button.classList.add("is-busy");
    announce("Saving…");
    const payload = buildPayload();
    const headers = state.etag ? { "If-Match": state.etag } : {};
    const query = [adopt ? "adopt=true" : "", confirmUndo ? "confirm_undo_rollback=true" : ""]
      .filter(Boolean)
      .join("&");
    const r = await api("POST", "/config" + (query ? "?" + query : ""), payload, headers);
    state.saving = false;
    button.removeAttribute("aria-disabled");
    button.classList.remove("is-busy");
    updateDirty();
    const data = r.data || {};
    if (r.ok) return saved(payload, data);
    if (r.status === 400 && data.code !== "invalid_json") {
      hideResult();
      clearAfter();
      $("schedule-preview-state").textContent = "Fix the problems shown in the form to see the runs.";
      showProblems(problemsFrom(data), { summary: true, focus: true });
      announce("Not saved: fix the problems listed.");
    } else if (r.status === 401) {
      needToken(save, Boolean(readToken() || memoryToken));
    } else if (r.status === 412) {
      showConflict();
    } else if (data.code === "undoes_rollback") {
      askToUndoRollback(data, options);
    } else if (data.code === "adopt_required") {
      askToAdopt(payload, data, options);
    } else if (data.code === "push_failed") {
      pushFailed(payload, data);
    } else {
      showResult("error", "Not saved", [
        el("p", { text: errorText(data) }),
        data.details ? el("pre", { className: "details", text: data.details }) : null,
      ]);
    }
    refreshStatus();
  }

  function saved(payload, data) {
    state.etag = data.etag || state.etag;
    const body = [];
    if (data.workflowUpdated) {
      const revision = code(String(data.revision || "?"));
      body.push(el("p", {}, "The workflow was updated: revision ", revision, " is now live."));
    } else {
      body.push(el("p", { text: "The workflow already matched, so nothing was pushed." }));
    }
    if (data.message) body.push(el("p", { className: "muted", text: data.message }));
    for (const note of data.scheduleCheck || []) body.push(el("p", { className: "muted", text: note }));
    if ((data.warnings || []).length) {
      const items = data.warnings.map((w) =>
        el("li", { text: (w.key_path ? w.key_path + ": " : "") + problemText(w) })
      );
      body.push(el("ul", {}, ...items));
    }
    showProblems(data.warnings || [], { summary: false });
    showResult("success", "Saved", body, true);
    announce(
      data.workflowUpdated
        ? "Saved and pushed revision " + data.revision + "."
        : "Saved; the workflow already matched."
    );
    markSaved(payload);
    refreshStatus();
    refreshHistory();
    schedulePreview(0); // "before" is now what was just pushed
  }

  // What was sent is what config.yaml holds now (webhook URLs stay masked: the page
  // never has them). No reload: it could overwrite edits made while the save was on its way.
  function markSaved(payload) {
    state.original = clone(payload);
    updateDirty();
  }

  function showConflict() {
    const reload = el("button", {
      type: "button",
      className: "button button-primary",
      id: "conflict-reload",
      text: "Reload the config",
    });
    reload.addEventListener("click", async () => {
      if (await loadConfig({ quiet: true })) {
        hideResult();
        announce("Reloaded the config; make your change again.");
        $("schedule-frequency").focus();
      }
    });
    showResult(
      "error",
      "config.yaml changed since you loaded it",
      [
        el("p", {
          text:
            "Someone else saved a change (or the file was edited) after this page " +
            "loaded it. Nothing was saved.",
        }),
        el("p", {
          text:
            "Reload to get the current version, then make your change again. " +
            "Reloading discards the edits on this page.",
        }),
        el("div", { className: "button-row" }, reload),
      ],
      true
    );
  }

  // The server runs a rolled-back revision: a save would push config.yaml over it.
  function askToUndoRollback(data, options) {
    const rolled = (state.status && state.status.rolled_back) || {};
    const again = el("button", {
      type: "button",
      className: "button button-danger",
      id: "undo-rollback-save",
      text: "Save and undo the rollback",
    });
    again.addEventListener("click", () => save({ ...(options || {}), confirmUndo: true }));
    const to = rolled.to ? [" (revision ", code(String(rolled.to)), ")"] : [];
    showResult(
      "error",
      "Not saved: this save would undo the rollback",
      [
        el(
          "p",
          {},
          "The server runs an earlier revision",
          ...to,
          " after a rollback. Saving pushes config.yaml, which replaces it with the newer workflow."
        ),
        data.error ? el("p", { className: "muted", text: errorText(data) }) : null,
        el("div", { className: "button-row" }, again),
      ],
      true
    );
  }

  // The target's project was not made by digsync: replacing it is the user's call.
  function askToAdopt(payload, data, options) {
    state.etag = data.etag || state.etag;
    markSaved(payload);
    const replace = el("button", {
      type: "button",
      className: "button button-danger",
      id: "adopt-push",
      text: "Replace that project",
    });
    replace.addEventListener("click", () => save({ ...(options || {}), adopt: true }));
    showResult(
      "error",
      "Saved, not pushed: the project on the target is not digsync's",
      [
        el("p", {
          text:
            "config.yaml was saved. The project it pushes to holds work that digsync did " +
            "not make, so nothing was replaced. Check workflow.project before you go on.",
        }),
        data.details ? el("pre", { className: "details", text: data.details }) : null,
        el("div", { className: "button-row" }, replace),
      ],
      true
    );
    refreshHistory();
  }

  function pushFailed(payload, data) {
    // The config is saved: the next save compares against the new file.
    state.etag = data.etag || state.etag;
    markSaved(payload);
    const retry = el("button", {
      type: "button",
      className: "button button-primary",
      id: "retry-push",
      text: "Retry the push",
    });
    retry.addEventListener("click", () => save());
    showResult(
      "error",
      data.error || "Config saved but workflow update failed",
      [
        el("p", {
          text:
            "config.yaml was saved, but pushing the regenerated workflow failed. " +
            "The push is pending; the server still runs the previous revision.",
        }),
        data.details ? el("pre", { className: "details", text: data.details }) : null,
        el(
          "p",
          {},
          "Retry when the target is reachable again, or run ",
          code("digsync push"),
          " where the server runs. The next save retries it too."
        ),
        el("div", { className: "button-row" }, retry),
      ],
      true
    );
    refreshHistory();
  }

  function showResult(kind, heading, body, focus) {
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

  function hideResult() {
    $("result").hidden = true;
  }

  // --- status ---------------------------------------------------------------------------

  function setProject(project, target) {
    const line = $("project-line");
    if (project) line.dataset.project = project;
    if (target) line.dataset.target = target;
    const parts = [];
    if (line.dataset.project) parts.push("Project " + line.dataset.project);
    if (line.dataset.target) parts.push("target " + line.dataset.target);
    line.textContent = parts.length ? parts.join(", ") + "." : "";
  }

  async function refreshStatus() {
    const body = $("status-body");
    const r = await api("GET", "/status");
    if (!r.ok || !r.data) {
      const text = "⚠ Status unavailable: " + errorText(r.data);
      body.replaceChildren(el("p", { className: "status-line status-error", text }));
      return;
    }
    const s = r.data;
    state.status = s;
    renderUndoWarning();
    setProject(s.project, s.target);
    const rows = [];
    let headline;
    if (s.pending) {
      headline = el("p", { className: "status-line status-pending", id: "status-state" }, "⏳ Push pending");
    } else if (s.in_sync) {
      headline = el("p", { className: "status-line status-ok", id: "status-state" }, "✓ In sync");
    } else {
      headline = el("p", { className: "status-line status-drift", id: "status-state" }, "⚠ Drift");
    }
    rows.push(headline);
    const dl = el("dl", { className: "facts" });
    const fact = (term, value) => dl.append(el("dt", { text: term }), el("dd", {}, value));
    fact("Project", s.project || "");
    fact("Target", s.target || "");
    fact("Server revision", s.server_revision ? code(s.server_revision) : "none yet");
    rows.push(dl);
    if (s.pending) {
      rows.push(
        el(
          "div",
          { className: "pending" },
          el("p", {
            text:
              "Since " + formatTime(s.pending.since) + ", " + s.pending.attempts +
              " failed attempt(s): " + s.pending.error,
          }),
          el("p", {}, "It is retried on the next save, or run ", code("digsync push"), ".")
        )
      );
    }
    let drift = Array.isArray(s.drift) ? s.drift : [];
    const rolled = rolledBack(s);
    if (rolled) {
      // Not "config.yaml changed": the server runs an earlier revision on purpose.
      drift = drift.filter((d) => !/changed since the last push/.test(d));
      rows.push(
        el(
          "p",
          { className: "rolled-back", id: "rolled-back-note" },
          "The server runs earlier revision ",
          code(String(rolled.to || "?")),
          rolled.from ? " (rolled back from " : "",
          rolled.from ? code(String(rolled.from)) : "",
          rolled.from ? ")" : "",
          "; config.yaml is ahead of it."
        )
      );
    }
    if (drift.length) {
      rows.push(el("ul", { className: "drift" }, ...drift.map((d) => el("li", { text: withoutShellHint(d) }))));
    }
    body.replaceChildren(...rows);
  }

  function rolledBack(s) {
    const rolled = s && s.rolled_back;
    return rolled && typeof rolled === "object" ? rolled : null;
  }

  // Beside Save & push: saving now pushes config.yaml over the rolled-back revision.
  function renderUndoWarning() {
    const warning = $("undo-warning");
    const rolled = rolledBack(state.status);
    if (!rolled) {
      warning.hidden = true;
      warning.textContent = "";
      return;
    }
    warning.replaceChildren(
      el("strong", { text: "Warning: " }),
      "the server runs earlier revision ",
      code(String(rolled.to || "?")),
      " after a rollback. Save & push pushes config.yaml and undoes the rollback."
    );
    warning.hidden = false;
  }

  // The API's advice may end in a shell command (cp <copy> config.yaml); the page offers
  // a button for that instead.
  function withoutShellHint(text) {
    return String(text || "")
      .replace(/\s*To keep the rollback, restore the config it was pushed from:\s*cp\s[\s\S]*$/, "")
      .replace(/:?\s*\bcp\s+\S+\s+\S+/g, "");
  }

  // --- history and rollback -------------------------------------------------------------

  async function refreshHistory() {
    const r = await api("GET", "/history");
    if (!r.ok || !r.data) {
      const text = "⚠ History unavailable: " + errorText(r.data);
      $("revisions-body").replaceChildren(el("p", { text }));
      $("audit-body").replaceChildren();
      return;
    }
    renderRevisions(r.data.revisions || [], r.data.project);
    renderAudit(r.data.audit || []);
  }

  function renderRevisions(revisions, project) {
    const body = $("revisions-body");
    if (!revisions.length) {
      body.replaceChildren(el("p", { className: "muted", text: "No revisions yet." }));
      return;
    }
    const head = el(
      "tr",
      {},
      ...["Revision", "Created", "By", "Action", "Result", ""].map((t) => el("th", { scope: "col", text: t }))
    );
    head.lastChild.append(hiddenText("Actions"));
    const rows = revisions.map((rev, i) => {
      let action;
      if (rev.current) {
        action = el("span", { className: "badge", text: "Current" });
      } else {
        const button = (id, dataKey, label, restoreConfig) => {
          const b = el(
            "button",
            { type: "button", className: "button button-small", id, [dataKey]: rev.revision },
            label,
            hiddenText(" to " + rev.revision)
          );
          b.addEventListener("click", () => confirmRollback(rev.revision, project, b, restoreConfig));
          return b;
        };
        action = button("rollback-" + i, "data-revision", "Roll back", false);
        const restore = button(
          "rollback-restore-" + i,
          "data-restore-revision",
          "Roll back and restore config.yaml",
          true
        );
        action = el("div", { className: "row-actions" }, action, restore);
      }
      return el(
        "tr",
        { className: rev.current ? "is-current" : null },
        el("td", { "data-label": "Revision" }, code(rev.revision || "")),
        el(
          "td",
          { "data-label": "Created" },
          el("time", { datetime: rev.created_at || "", text: formatTime(rev.created_at) })
        ),
        el("td", { "data-label": "By", text: rev.who || "" }),
        el("td", { "data-label": "Action", text: rev.action || "" }),
        el("td", { "data-label": "Result", text: rev.result || "" }),
        el("td", { "data-label": "" }, action)
      );
    });
    const table = el(
      "table",
      { className: "table", id: "revisions-table" },
      el("caption", {
        className: "visually-hidden",
        text: "Revisions of " + (project || "the project"),
      }),
      el("thead", {}, head),
      el("tbody", {}, ...rows)
    );
    const scroll = { className: "table-scroll", tabindex: "0", role: "region", "aria-label": "Revisions" };
    body.replaceChildren(el("div", scroll, table));
  }

  function renderAudit(audit) {
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

  // --- a config change as the YAML lines the user edited ----------------------------------

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
  function configChanges(entry) {
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

  function confirmRollback(revision, project, opener, restore) {
    const dialog = $("confirm-dialog");
    $("confirm-heading").textContent =
      (restore ? "Roll back to " + revision + " and restore config.yaml" : "Roll back to " + revision) + "?";
    $("confirm-text").textContent =
      "The server gets a new revision of " +
      (project || "the project") +
      " with the files of " +
      revision +
      (restore
        ? ", and config.yaml is restored to the config that revision was pushed from."
        : ". config.yaml is not changed.");
    $("confirm-ok").textContent = restore ? "Roll back and restore" : "Roll back";
    state.confirmAction = () => rollback(revision, restore);
    state.confirmOpener = opener;
    dialog.returnValue = "";
    dialog.showModal();
    $("confirm-cancel").focus();
  }

  async function rollback(revision, restore) {
    announce("Rolling back to " + revision + "…");
    const body = restore ? { revision, restore_config: true } : { revision };
    const r = await api("POST", "/rollback", body);
    const data = r.data || {};
    if (r.ok) {
      // config.yaml may have changed on disk: load it again (and its ETag).
      if (restore) await loadConfig({ quiet: true });
      const body = [
        el(
          "p",
          {},
          "Now running ",
          code(String(data.new_revision || "")),
          " (the files of ",
          code(String(data.to_revision || revision)),
          ", replacing ",
          code(String(data.from_revision || "")),
          ")."
        ),
      ];
      const restored = data.config_restored !== undefined ? data.config_restored : data.restored_config;
      if (restore && restored === true) {
        body.push(el("p", { text: "config.yaml was restored to the config of that revision and reloaded." }));
      } else if (restore && restored === false) {
        body.push(el("p", { text: "config.yaml could not be restored: no copy of that revision's config is kept." }));
      } else if (restore) {
        body.push(el("p", { text: "config.yaml was loaded again from the server." }));
      }
      const advice = withoutShellHint(data.advice);
      if (advice && !(restore && restored === true)) {
        body.push(el("p", { className: "muted", text: advice }));
      }
      if (!restore) {
        body.push(
          el("p", { className: "muted", text: "To keep it, use “Roll back and restore config.yaml” in the history." })
        );
      }
      showResult("success", restore ? "Rolled back and restored config.yaml" : "Rolled back", body, true);
      announce("Rolled back to " + revision + ".");
    } else if (r.status === 401) {
      needToken(() => rollback(revision, restore), Boolean(readToken() || memoryToken));
      return;
    } else {
      showResult(
        "error",
        "Rollback failed",
        [
          el("p", { text: errorText(data) }),
          data.details ? el("pre", { className: "details", text: data.details }) : null,
        ],
        true
      );
    }
    refreshStatus();
    refreshHistory();
    schedulePreview(0);
  }

  // --- wiring ---------------------------------------------------------------------------

  function bindPage() {
    // Enter in a field never saves: a push needs the button. (The form has no submit
    // button, so there is no implicit submission; this guards any that slips through.)
    $("config-form").addEventListener("submit", (e) => {
      e.preventDefault();
    });
    $("save-button").addEventListener("click", () => save());
    $("result-close").addEventListener("click", () => {
      hideResult();
      const next = $("save-button").disabled ? $("preview-button") : $("save-button");
      next.focus();
    });
    $("preview-button").addEventListener("click", () => runPreview(true));
    $("status-refresh").addEventListener("click", async () => {
      await refreshStatus();
      announce("Status refreshed.");
    });
    $("history-refresh").addEventListener("click", async () => {
      await refreshHistory();
      announce("History refreshed.");
    });
    $("load-retry").addEventListener("click", () => loadConfig());
    $("token-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const token = $("api-token").value.trim();
      if (!token) {
        needToken(state.afterToken, false);
        return;
      }
      writeToken(token);
      $("api-token").value = "";
      $("token-panel").hidden = true;
      announce("Token saved for this tab.");
      const retry = state.afterToken;
      state.afterToken = null;
      if (retry) retry();
    });
    $("token-forget").addEventListener("click", () => {
      writeToken("");
      $("api-token").value = "";
      announce("Token forgotten.");
    });
    const dialog = $("confirm-dialog");
    dialog.addEventListener("close", () => {
      const action = state.confirmAction;
      state.confirmAction = null;
      if (dialog.returnValue === "confirm" && action) {
        action();
      } else if (state.confirmOpener && state.confirmOpener.isConnected) {
        state.confirmOpener.focus();
      }
    });
  }

  async function start() {
    bindSchedule();
    bindScope();
    bindPage();
    updateDirty();
    refreshStatus();
    refreshHistory();
    await loadSchema(); // the choices come from the served schema, before the form is drawn
    loadConfig({ quiet: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
