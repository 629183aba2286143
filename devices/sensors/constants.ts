/** Sensor driver defaults. Units are in the names. */

/** Longest line a driver keeps while waiting for its end, bytes; longer input is dropped and counted. */
export const MAX_LINE_BYTES = 1024;
/** NMEA 0183 limits a sentence to 82 characters; we allow proprietary slack up to this many, chars. */
export const NMEA_MAX_SENTENCE_CHARS = 256;
/** Default baud rate for a serial GPS (NMEA 0183 standard rate), bits/s. */
export const DEFAULT_GPS_BAUD_RATE = 4800;
/** Default baud rate for a microcontroller line-protocol sensor, bits/s. */
export const DEFAULT_LINE_SENSOR_BAUD_RATE = 115_200;
/** Default interval between two simulated readings, ms. */
export const DEFAULT_SIM_INTERVAL_MS = 1000;
/** Default standard deviation of the simulated sensor's gaussian noise, in the metric's unit. */
export const DEFAULT_SIM_NOISE_SIGMA = 1;
/** Default seed of the simulated sensor's PRNG. */
export const DEFAULT_SIM_SEED = 1;
