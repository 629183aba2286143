/** Node defaults. */

/** Broker used when none is given. */
export const DEFAULT_BROKER_URL = 'mqtt://127.0.0.1:1883';
/** Sub-folder of the data folder holding the series. */
export const SERIES_SUBDIR = 'series';
