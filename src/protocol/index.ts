/**
 * The wire (docs/protocol.md): topics, the CBOR codec, and the one validator that
 * decides what is well-formed.
 */
export { decode, encode, scanChunkCbor } from '../cbor/index.js';
export * from './constants.js';
export * from './errors.js';
export * from './incarnation.js';
export * from './roster-barrier.js';
export * from './topics.js';
export * from './types.js';
export * from './validate.js';
