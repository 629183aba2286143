/**
 * The field dashboard: the page a broker serves on `--http-port` (built from `dashboard/page/`),
 * and the status publisher through which a node tells it its limiters, closed intents, reputation
 * and consensus (docs/protocol.md §5.6).
 */
export { buildPage, type PageFiles, packageRoot, writePage } from './build.js';
export * from './constants.js';
export { createPageHandler, type PageConfig, pageConfig } from './serve.js';
export { createStatusService } from './status-service.js';
export { DASHBOARD_VIEW, type DashboardViewState, dashboardView } from './status-view.js';
