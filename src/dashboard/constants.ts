/** The page's files, built from `dashboard/page/` (the browser code) at the repository root. */
export const PAGE_SOURCE_DIR = 'dashboard/page';
/** Where `npm run build:dashboard` writes the built page (served when esbuild is not installed). */
export const PAGE_DIST_DIR = 'dist/dashboard';
/** Browsers the bundle targets (a field laptop or phone of the last few years). */
export const PAGE_TARGETS = ['chrome100', 'firefox100', 'safari15'];
/** Status records: the shortest time between two, ms (docs/protocol.md §5.6: STATUS_MIN_INTERVAL_MS). */
export const STATUS_CHECK_MS = 1_000;
/** Intents remembered between two status records (the record carries at most MAX_STATUS_CLOSED). */
export const MAX_PENDING_CLOSED = 64;
