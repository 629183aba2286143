/** Bounds of what the page keeps in memory: a page left open for days must not grow. */

/** Intents kept (newest first); older ones are forgotten. */
export const MAX_INTENTS = 500;
/** Intents, and cells not refreshed, older than this are forgotten, ms. */
export const KEEP_MS = 60 * 60 * 1000;
/** Nodes kept in the roster. */
export const MAX_NODES = 2_000;
/** Consensus cells kept (cell × metric). */
export const MAX_CELLS = 5_000;
/** Intents drawn in the list (the rest are counted in the totals). */
export const SHOWN_INTENTS = 60;
/** Shortest time between two redraws, ms: a busy field updates the page a few times a second at most. */
export const REDRAW_MS = 300;
/** Wait between reconnect attempts, ms. */
export const RECONNECT_MS = 2_000;
/** Client id prefix of a page (never a node's `dameso.{node}`: a page is not a member of the fleet). */
export const VIEWER_CLIENT_ID_PREFIX = 'dameso-view.';
/** The limiters, in the order docs/protocol.md §11 lists them. */
export const LIMITER_NAMES = ['economic', 'cpu', 'memory', 'w_tracking', 'objective', 'topology'] as const;
/** Map tiles: their side, px (the slippy-map convention), the drawing's size, the deepest zoom used. */
export const TILE_PX = 256;
export const TILE_MAP_WIDTH_PX = 760;
export const TILE_MAP_HEIGHT_PX = 460;
export const MAX_TILE_ZOOM = 19;
/** Tiles requested for one drawing at most (the drawing is about 4 × 3 tiles). */
export const MAX_TILES = 24;
