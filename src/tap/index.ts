/** `dameso tap`: the dameso topics decoded, one event per message. */
export * from './constants.js';
export { concerns, type DecodeContext, decodeTap, IntentTimes, type TapEvent } from './decode.js';
export { tapLine } from './format.js';
