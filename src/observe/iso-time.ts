/** Wall-clock ms as ISO 8601 UTC text; '' for a `t` outside what a Date holds (a bad clock). */
export function isoTime(t: number): string {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}
