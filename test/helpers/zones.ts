/**
 * A fixed-offset IANA zone (`Etc/GMT±N`, no DST) whose local hour is `hour` at `nowMs`: a calendar
 * window in it has a known share of its day behind it, whatever the time of the test run.
 */
export function zoneAtLocalHour(hour: number, nowMs = Date.now()): string {
  const utcHour = new Date(nowMs).getUTCHours();
  const offset = ((((hour - utcHour) % 24) + 24 + 12) % 24) - 12; // in [-12, 11]
  // Etc/GMT signs are inverted: Etc/GMT-3 is UTC+3.
  return offset === 0 ? 'Etc/GMT' : offset > 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`;
}
