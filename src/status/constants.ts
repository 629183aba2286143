/** Status defaults. Units are in the names. */

/**
 * How many of the newest entries a status looks through for the newest `survey` and `backup`
 * entries: a node that never surveyed would otherwise have its whole ring read at every request.
 */
export const STATUS_SCAN_ENTRIES = 50_000;
/** The newest-entry events a status reports (shared contracts: written by the survey loop and the backup). */
export const SURVEY_EVENT = 'survey';
export const BACKUP_EVENT = 'backup';
/** The view holding the newest `survey` and `backup` entries. */
export const STATUS_VIEW = 'status';
/** Cells of a survey entry kept in the view (a survey may name many). */
export const STATUS_MAX_CELLS = 32;
/**
 * Flash a sync costs at least, bytes (an estimate: one page of a card's NAND; a synced 100-byte
 * append still programs a whole page). The wear rate counts each sync as this much beside the
 * bytes written.
 */
export const SYNC_WEAR_BYTES = 16_384;
/** Wear rates are not extrapolated from less than this much running, ms (a start's burst). */
export const WEAR_MIN_SPAN_MS = 60_000;
