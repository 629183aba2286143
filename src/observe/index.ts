/**
 * Field observation mapping: observations, the `want_observations` handler, reputation and
 * multi-perspective consensus, and the map export. Pure parts (consensus, reputation, replay,
 * GeoJSON) take plain data; the observer, handler and requester take `{ series, clock, log }`.
 */

export { CELL_INDEX_VIEW, type CellIndexState, createCellIndexView, seqsFor } from './cell-index.js';
export {
  type ConsensusMethod,
  type ConsensusOptions,
  type ConsensusResult,
  capWeights,
  consensus,
  type Perspective,
  plainMean,
  plainMedian,
  weightedMedian,
} from './consensus.js';
export {
  asConsensus,
  type ConsensusEntry,
  type ConsensusFields,
  consensusInput,
  type ReplayedConsensus,
  replayConsensus,
} from './consensus-entry.js';
export * from './constants.js';
export { BadCellError, BadPrecisionError, NoConsensusError } from './errors.js';
export { consensusMap, latestConsensus, type MapCollection, type MapFeature, toFeature } from './geojson.js';
export {
  createObservationHandler,
  MAPPER_ROLE,
  type ObservationHandlerOptions,
  type ObservationsData,
  ownObservations,
  WANT_OBSERVATIONS,
  type WireObservation,
} from './handler.js';
export { csvField, isLowConfidence, MAP_CSV_COLUMNS, mapCsv } from './map-csv.js';
export { type MapHtmlOptions, mapHtml } from './map-html.js';
export { observationPoints, type PointCollection, type PointFeature } from './map-points.js';
export {
  asObservation,
  assertCell,
  CONSENSUS_EVENT,
  cellBox,
  cellCentre,
  cellOf,
  isCell,
  OBSERVATION_EVENT,
  type ObservationEntry,
  type ObservationFields,
  observationInput,
} from './observation.js';
export { createObserver, type Observer, type ObserverOptions, type ObserverStats } from './observer.js';
export { type PerspectiveGroup, perspectivesFrom, type ReplyVerdict } from './perspectives.js';
export {
  agrees,
  evidenceOf,
  REPUTATION_VIEW,
  type ReputationState,
  replayReputation,
  reputationOf,
  reputationScores,
  reputationStart,
  reputationView,
  samplingErrors,
  type Tally,
} from './reputation.js';
export {
  type ConsensusChunkRecord,
  type ConsensusPusher,
  type RequestDeps,
  type RequestOptions,
  type RequestResult,
  requestConsensus,
} from './request.js';
export {
  createObserveService,
  type ObserveInstance,
  type ObserveService,
  type ObserveServiceOptions,
} from './service.js';
export {
  createSurveyLoop,
  createSurveyView,
  SURVEY_EVENT,
  SURVEY_VIEW,
  type SurveyDeps,
  type SurveyEntry,
  type SurveyFields,
  type SurveyLoop,
  type SurveyOptions,
  type SurveyOutcome,
  type SurveyState,
  type SurveyStats,
  surveyCells,
} from './survey.js';
