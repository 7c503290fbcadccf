// The schedule fieldset: frequency, time, day, interval, cron and time zone.

import { $, el, ensureOption } from "./dom.js";
import { edited } from "./edited.js";
import { deletePath, getPath, setPath } from "./keypath.js";
import { state } from "./state.js";

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

// What the stored time was written for: MM:SS (hourly) or HH:MM:SS (day-based).
export function resetTimeMemo() {
  const frequency = scheduleValue("frequency");
  state.timeMemo = {
    kind: frequency === "hourly" ? "hour" : DAY_FREQUENCIES.includes(frequency) ? "day" : null,
  };
}

// The choices of the frequency select: the values the schema lists.
export function renderFrequencyOptions(values) {
  const select = $("schedule-frequency");
  select.replaceChildren(
    ...values.map((value) =>
      el("option", { value, text: FREQUENCY_LABELS[value] || value })
    )
  );
}

function defaultTime(frequency) {
  return frequency === "hourly" ? "00:00" : SCHEDULE_DEFAULTS.time;
}

function weekdayName(value) {
  if (typeof value === "number" && value >= 0 && value <= 7) return WEEKDAYS[value % 7];
  const text = String(value).trim().toLowerCase();
  return WEEKDAYS.find((d) => d.toLowerCase() === text || d.slice(0, 3).toLowerCase() === text);
}

export function renderSchedule() {
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

export function bindSchedule() {
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
