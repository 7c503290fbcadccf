// Dates as a person reads them: "Mon 7 Dec 03:00 GMT+9 · in 6 h".

export function formatTime(iso) {
  return typeof iso === "string" ? iso.replace("T", " ") : "";
}

export function isoOffset(iso) {
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
export function runFormatter(timezone) {
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

export function relative(ms) {
  const minutes = Math.round(ms / 60000);
  if (minutes <= 0) return "now";
  if (minutes < 60) return "in " + minutes + " min";
  const hours = Math.round(minutes / 60);
  if (hours < 48) return "in " + hours + " h";
  return "in " + Math.round(hours / 24) + " d";
}
