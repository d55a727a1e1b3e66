/**
 * Calendar dates as cards carry them (`YYYY-MM-DD`, a day without a time or zone, as
 * `appservice/src/tools/tasks/date.rs` reads them), without I/O: today in the user's zone, day
 * arithmetic (done in UTC, where every day has 24 hours), the week a day is in.
 */

const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `text` is a calendar date `YYYY-MM-DD` that exists. */
export function isCalendarDate(text: string): boolean {
  const match = ISO_DATE.exec(text);
  if (!match) return false;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return date.toISOString().slice(0, 10) === text;
}

/** The day of a local date and time (`Date`), as the user's calendar shows it. */
export function localDate(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Today, in the user's zone. */
export function today(now: Date = new Date()): string {
  return localDate(now);
}

/** Days since 1970-01-01. */
function dayNumber(date: string): number {
  return Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
}

/** `date` plus `days` (negative: before). */
export function addDays(date: string, days: number): string {
  return new Date((dayNumber(date) + days) * DAY_MS).toISOString().slice(0, 10);
}

/** Days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from);
}

/** The Monday and the Sunday of the week of `date` (weeks start on Monday, as in France). */
export function weekOf(date: string): { monday: string; sunday: string } {
  // 1970-01-01 was a Thursday: day 0 is weekday 3 counting from Monday.
  const weekday = (((dayNumber(date) + 3) % 7) + 7) % 7;
  const monday = addDays(date, -weekday);
  return { monday, sunday: addDays(monday, 6) };
}

/** A calendar date for people, in the interface's language: `12 Dec 2026`, `12 déc. 2026`. */
export function formatDate(date: string, lang: "fr" | "en"): string {
  if (!isCalendarDate(date)) return date;
  return new Intl.DateTimeFormat(lang === "fr" ? "fr-FR" : "en-GB", { dateStyle: "medium", timeZone: "UTC" }).format(
    new Date(`${date}T00:00:00Z`),
  );
}
