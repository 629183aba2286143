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
