// A wall-clock time typed in a form (`<input type="datetime-local">`, no zone) read in the lab's zone
// (IANA name) as epoch seconds, without a date library: the zone's offset at that instant from Intl.
function offsetSeconds(epochMs, zone) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  for (const p of format.formatToParts(new Date(epochMs))) parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return (wall - Math.floor(epochMs / 1000) * 1000) / 1000;
}

export function zonedToEpoch(text, zone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text || "");
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  try {
    // twice: the offset at the guessed instant may differ from the one at the answer (a DST change)
    let epoch = wall - offsetSeconds(wall, zone) * 1000;
    epoch = wall - offsetSeconds(epoch, zone) * 1000;
    return epoch / 1000;
  } catch {
    return wall / 1000; // an unknown zone name: read it as UTC
  }
}

// epoch seconds as the `value` of a datetime-local input, in the lab's zone
export function epochToZoned(epoch, zone) {
  const ms = epoch * 1000 + offsetSeconds(epoch * 1000, zone) * 1000;
  return new Date(ms).toISOString().slice(0, 16);
}
