/**
 * `new Date(ms).toISOString()`, from arithmetic alone. Node 20's V8 looks the local time zone up for every
 * toISOString (through ICU, whose data pages and time-zone code then stay resident in the master for its whole
 * life) although the answer is UTC; the master logs a timestamp from its first line on. Valid for the years 0
 * to 9999, as toISOString is without its extended years.
 */
const DAY_MS = 86_400_000;

let cachedDay = Number.NaN;
let cachedDate = '';

/** `YYYY-MM-DD` of a day counted from 1970-01-01 (Howard Hinnant's civil_from_days). */
function civilDate(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}`;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

export function isoTime(ms: number = Date.now()): string {
  const days = Math.floor(ms / DAY_MS);
  if (days !== cachedDay) {
    cachedDay = days;
    cachedDate = civilDate(days);
  }
  let rest = ms - days * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  const milli = rest - s * 1000;
  return `${cachedDate}T${pad2(h)}:${pad2(m)}:${pad2(s)}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}
