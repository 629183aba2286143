/**
 * Sources: read a node's or a broker's existing counters into metric samples at scrape time.
 * Each reads `stats()` once per part per scrape (O(1) or O(segments); no I/O).
 */
import type { BrokerStats } from '../../broker/types.js';
import { CHUNKS_VIEW } from '../chunks/constants.js';
import type { BackupState, BackupStateName } from '../chunks/index.js';
import type { ChunksState } from '../chunks/view.js';
import type { LimiterGate } from '../limiters/gate.js';
import { LIMITERS_VIEW, type LimiterTally } from '../limiters/index.js';
import type { DamesoNode } from '../node.js';
import type { ObserveInstance, SurveyStats } from '../observe/index.js';
import { LIMITER_NAMES, NO_REASONS } from '../protocol/types.js';
import type { CommitStats } from '../series/index.js';
import { writeBudgetOf } from '../status/index.js';
import type { Sink, Source } from './registry.js';

/** The node's limiter gate when it uses its own limiters (a custom gate has no values to show). */
function limiterGate(node: DamesoNode): LimiterGate | undefined {
  const g = node.gate as Partial<LimiterGate>;
  return typeof g.values === 'function' && typeof g.stats === 'function' ? (g as LimiterGate) : undefined;
}

/** `commitStats()` is on the series implementation, not on the `Series` contract (benchmarks read it). */
function commitStats(node: DamesoNode): CommitStats | undefined {
  const f = (node.series as { commitStats?: () => CommitStats }).commitStats;
  return typeof f === 'function' ? f.call(node.series) : undefined;
}

/** The write budget of the board the node's limiters recorded (`dameso status` turns it into years). */
function writeBudget(node: DamesoNode): number | undefined {
  try {
    return writeBudgetOf(node.series.view<LimiterTally>(LIMITERS_VIEW).config?.board ?? null);
  } catch {
    return undefined; // a node without its own limiters has no such view
  }
}

/** The backup of a node whose chunks service backs its series up (`replicate` > 0). */
function backupOf(node: DamesoNode): BackupState | undefined {
  const chunks = node.services.chunks as { backupState?: () => BackupState | undefined } | undefined;
  return chunks?.backupState?.();
}

const BACKUP_STATES: readonly BackupStateName[] = ['waiting', 'pushing', 'caught_up', 'paused'];

/** The survey loop of a node whose observe service surveys (a mapper with `surveyEveryS` > 0). */
function surveyOf(node: DamesoNode): SurveyStats | undefined {
  const observe = node.services.observe as Partial<ObserveInstance> | undefined;
  return observe?.surveyStats?.();
}

/** A started node's counters. Read only while the node runs (its parts throw before `start()`). */
export function nodeSource(node: DamesoNode): Source {
  return (sink: Sink) => {
    const s = node.series.stats();
    sink('dameso_series_first_seq', s.firstSeq);
    sink('dameso_series_last_seq', s.lastSeq);
    sink('dameso_series_durable_seq', s.durableSeq);
    sink('dameso_series_entries', s.lastSeq >= s.firstSeq && s.lastSeq > 0 ? s.lastSeq - s.firstSeq + 1 : 0);
    sink('dameso_series_bytes', s.bytes);
    sink('dameso_series_budget_bytes', s.budgetBytes);
    sink('dameso_series_segments', s.segments);
    sink('dameso_series_evicted_segments_total', s.evictedSegments);
    sink('dameso_series_damaged_records', s.damagedRecords);
    const c = commitStats(node);
    if (c !== undefined) {
      sink('dameso_series_commits_total', c.commits);
      sink('dameso_series_committed_records_total', c.records);
      sink('dameso_series_written_bytes_total', c.writtenBytes);
      sink('dameso_series_syncs_total', c.syncs);
    }
    const budget = writeBudget(node);
    if (budget !== undefined) sink('dameso_storage_write_budget_bytes', budget);

    const { declare: d, answer: a } = node.intents.stats();
    sink('dameso_intents_declared_total', d.declared);
    sink('dameso_intents_closed_total', d.closed);
    sink('dameso_intents_pending', d.pending);
    sink('dameso_intents_replies_total', d.replies);
    sink('dameso_intents_late_replies_total', d.late);
    sink('dameso_intents_unknown_replies_total', d.unknown);
    sink('dameso_intents_stale_replies_total', d.staleSession);
    sink('dameso_intents_duplicate_replies_total', d.duplicates);
    sink('dameso_intents_received_total', a.received);
    sink('dameso_intents_not_for_me_total', a.notForMe);
    sink('dameso_intents_irrelevant_total', a.irrelevant);
    sink('dameso_intents_stale_intents_total', a.staleSession);
    sink('dameso_intents_answered_total', a.yes, { answer: 'yes' });
    sink('dameso_intents_answered_total', a.no, { answer: 'no' });
    sink('dameso_intents_answered_total', a.silence, { answer: 'silence' });
    sink('dameso_intents_expired_answers_total', a.expired);
    sink('dameso_intents_overload_total', a.overload);
    sink('dameso_intents_handler_errors_total', a.handlerErrors);

    const gate = limiterGate(node);
    if (gate !== undefined) {
      const values = gate.values();
      for (const name of LIMITER_NAMES) sink('dameso_limiter_value', values[name], { limiter: name });
      const g = gate.stats();
      sink('dameso_limiter_seen_total', g.seen);
      sink('dameso_limiter_yes_total', g.yes);
      for (const reason of NO_REASONS) sink('dameso_limiter_no_total', g.no[reason] ?? 0, { reason });
    }

    const r = node.roster.stats();
    sink('dameso_roster_online_peers', r.online);
    sink('dameso_roster_known_peers', r.peers);
    sink('dameso_roster_stale_records_total', r.stale);
    sink('dameso_roster_overflow_total', r.overflow);

    const t = node.transport.stats();
    sink('dameso_transport_connected', t.connected ? 1 : 0);
    sink('dameso_transport_connects_total', t.connects);
    sink('dameso_transport_published_total', t.published);
    sink('dameso_transport_publish_errors_total', t.publishErrors);
    sink('dameso_transport_received_total', t.received);
    for (const [reason, n] of Object.entries(t.rejected)) sink('dameso_transport_rejected_total', n, { reason });
    sink('dameso_transport_outbox_records', t.kept);
    sink('dameso_transport_outbox_forwarded_total', t.forwarded);
    sink('dameso_transport_outbox_dropped_total', t.keptDropped);

    if (node.services.chunks !== undefined) {
      const held = node.series.view<ChunksState>(CHUNKS_VIEW);
      sink('dameso_chunks_stored', held.count);
      sink('dameso_chunks_stored_bytes', held.bytes);
    }
    const backup = backupOf(node);
    if (backup !== undefined) {
      sink('dameso_backup_mark', backup.mark);
      sink('dameso_backup_lag_entries', backup.lag);
      for (const state of BACKUP_STATES) sink('dameso_backup_state', backup.state === state ? 1 : 0, { state });
    }
    const survey = surveyOf(node);
    if (survey !== undefined) {
      for (const [outcome, n] of Object.entries(survey.rounds)) sink('dameso_survey_rounds_total', n, { outcome });
      sink('dameso_survey_last_round_timestamp_seconds', (survey.lastRoundT ?? 0) / 1000);
    }
  };
}

/** A broker host's counters (`createBrokerHost().stats()`); drop reasons are all present from 0. */
export function brokerSource(host: { stats(): BrokerStats }): Source {
  return (sink: Sink) => {
    const s = host.stats();
    sink('dameso_broker_connections', s.connections);
    sink('dameso_broker_connections_total', s.connectionsTotal);
    sink('dameso_broker_publishes_checked_total', s.checked);
    sink('dameso_broker_publishes_passed_total', s.passed);
    for (const [reason, n] of Object.entries(s.dropped)) sink('dameso_broker_publishes_dropped_total', n, { reason });
    sink('dameso_broker_retain_stripped_total', s.retainStripped);
    sink('dameso_broker_deliveries_narrowed_total', s.narrowed);
    sink('dameso_broker_wills_refused_total', s.willsRefused);
    sink('dameso_broker_packets_too_large_total', s.packetsTooLarge);
    sink('dameso_broker_tracked_nodes', s.trackedNodes);
    sink('dameso_broker_retained_haves', s.retainedHaves);
    sink('dameso_broker_haves_not_retained_total', s.havesNotRetained);
    sink('dameso_broker_haves_over_share_total', s.havesOverShare);
    sink('dameso_broker_sys_denied_total', s.sysDenied);
    for (const [reason, n] of Object.entries(s.authRefused)) sink('dameso_broker_auth_refused_total', n, { reason });
    sink('dameso_broker_acl_denied_total', s.aclDenied.publish, { action: 'publish' });
    sink('dameso_broker_acl_denied_total', s.aclDenied.subscribe, { action: 'subscribe' });
    sink('dameso_broker_tls_handshake_failures_total', s.tlsHandshakeFailures);
    for (const [reason, n] of Object.entries(s.refused)) sink('dameso_broker_connections_refused_total', n, { reason });
    sink('dameso_broker_disconnected_for_drops_total', s.disconnectedForDrops);
    sink('dameso_broker_pending_over_budget_total', s.pendingOverBudget);
    sink('dameso_broker_pending_bytes', s.pendingBytes);
    sink('dameso_broker_stale_deliveries_total', s.staleDeliveries);
    sink('dameso_broker_redis_outages_total', s.redisOutages);
    sink('dameso_broker_redis_stalls_total', s.redisStalls);
    sink('dameso_broker_peers_dead_total', s.peersDead);
    sink('dameso_broker_dead_peer_wills_total', s.deadPeerWills);
    sink('dameso_broker_clients_reannounced_total', s.clientsReannounced);
    for (const [phase, n] of Object.entries(s.timedOut))
      sink('dameso_broker_connections_timed_out_total', n, { phase });
  };
}
