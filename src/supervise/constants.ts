/** Supervision defaults (systemd notify, boot retries, safe mode). Units are in the names. */

/** The helper that sends sd_notify datagrams (Node has no unix datagram sockets); from the systemd package. */
export const SYSTEMD_NOTIFY_COMMAND = 'systemd-notify';
/** First delay before a refused start is tried again, ms; doubled per refusal up to the max. */
export const BOOT_RETRY_MIN_MS = 1_000;
/** Longest delay between two start attempts, ms (bounded backoff). */
export const BOOT_RETRY_MAX_MS = 60_000;
/** Crashes at start within `CRASH_WINDOW_MS` that put the next start in safe mode. */
export const CRASHES_FOR_SAFE_MODE = 3;
/** The window in which crashes at start are counted, ms. */
export const CRASH_WINDOW_MS = 10 * 60_000;
/** Online this long without exiting: the start was no crash, and the crash record is cleared, ms. */
export const CLEAN_RUN_MS = 60_000;
/** Unsettled starts kept in the record (older ones are dropped). */
export const MAX_RECORDED_STARTS = 16;
/** The record's file in the data folder. */
export const SUPERVISE_FILE = 'supervise.json';
