/**
 * Every metric dameso exports: name, type and what it counts. Names follow the Prometheus habits:
 * the `dameso_` prefix, base units in the name (`_bytes`), `_total` on counters. Counters mirror
 * counts the parts already keep (`stats()`); nothing here counts on a hot path.
 */

export type FamilyType = 'counter' | 'gauge';

export interface Family {
  readonly type: FamilyType;
  readonly help: string;
  /** Labels besides the source label (`node` or `broker`). */
  readonly labels?: readonly string[];
}

const counter = (help: string, labels?: readonly string[]): Family => ({ type: 'counter', help, labels });
const gauge = (help: string, labels?: readonly string[]): Family => ({ type: 'gauge', help, labels });

/** Labelled by `node` (several nodes may share a process: tests, `dameso field`). */
export const NODE_FAMILIES = {
  dameso_series_first_seq: gauge('Seq of the oldest entry still in the series ring.'),
  dameso_series_last_seq: gauge('Seq of the newest entry appended to the series.'),
  dameso_series_durable_seq: gauge('Newest seq known durable on disk under the durability mode.'),
  dameso_series_entries: gauge('Entries held in the series ring (last_seq - first_seq + 1).'),
  dameso_series_bytes: gauge('Bytes of the series segment files.'),
  dameso_series_budget_bytes: gauge('Byte budget of the series ring (older segments are evicted above it).'),
  dameso_series_segments: gauge('Segment files in the series ring.'),
  dameso_series_evicted_segments_total: counter('Segments evicted to keep the series under its budget.'),
  dameso_series_damaged_records: gauge('Damaged records the series skipped at open (see `dameso series verify`).'),
  dameso_safe_mode: gauge(
    '1 when the node started in safe mode after 3 crashes at start within 10 min (presence and status only).',
  ),
  dameso_boot_refusals_total: counter(
    'Start attempts the broker refused (password, certificate, unreachable) before this process went online (--retry).',
  ),
  dameso_series_commits_total: counter('Group commits (write + fsync under the mode) done by the series.'),
  dameso_series_committed_records_total: counter('Records written by those commits.'),
  dameso_series_written_bytes_total: counter(
    'Bytes the series wrote to its segment files since start (storage wear; per hour: increase(...[1h])).',
  ),
  dameso_series_syncs_total: counter(
    'Syncs the series asked of the device since start: O_DSYNC writes, fdatasyncs, folder fsyncs.',
  ),
  dameso_storage_write_budget_bytes: gauge(
    "Estimated bytes the board profile's storage medium takes before it wears out (storage.writeBudgetBytes; absent without one).",
  ),

  dameso_intents_declared_total: counter('Intents this node declared.'),
  dameso_intents_closed_total: counter('Declared intents closed (all answered, deadline or offline).'),
  dameso_intents_pending: gauge('Declared intents still open.'),
  dameso_intents_replies_total: counter('Replies received to intents this node declared, in time.'),
  dameso_intents_late_replies_total: counter('Replies received after their intent closed.'),
  dameso_intents_unknown_replies_total: counter('Replies for intent ids this node does not know.'),
  dameso_intents_stale_replies_total: counter('Replies whose session is older than the roster one (stale or spoofed).'),
  dameso_intents_duplicate_replies_total: counter('Second and later replies from the same node to one intent.'),
  dameso_intents_received_total: counter('Intents received on the answer side (before any filtering).'),
  dameso_intents_not_for_me_total: counter('Received intents addressed to other nodes, or sent by this one.'),
  dameso_intents_irrelevant_total: counter('Received intents for kinds this node does not serve.'),
  dameso_intents_stale_intents_total: counter("Received intents whose sender's session is older than the roster one."),
  dameso_intents_answered_total: counter('Answers this node decided, by answer (yes, no, silence).', ['answer']),
  dameso_intents_expired_answers_total: counter('Answers ready after the deadline, so not sent.'),
  dameso_intents_overload_total: counter('Intents refused because too many were being handled at once.'),
  dameso_intents_handler_errors_total: counter('Handlers that threw (answered NO bad_request).'),

  dameso_limiter_value: gauge(
    'Current value of each limiter in [0,1] (1 = free, 0 = exhausted), rounded like a decision.',
    ['limiter'],
  ),
  dameso_limiter_seen_total: counter('Intents on served kinds seen by the limiter gate.'),
  dameso_limiter_yes_total: counter('Gate decisions that let an intent through.'),
  dameso_limiter_no_total: counter('Gate decisions that refused an intent, by reason.', ['reason']),

  dameso_roster_online_peers: gauge('Peers the roster holds as online.'),
  dameso_roster_known_peers: gauge('Peers the roster knows (online or offline).'),
  dameso_roster_stale_records_total: counter('Presence records ignored as older than the known session.'),
  dameso_roster_overflow_total: counter('Peers dropped because the roster was at its bound.'),

  dameso_transport_connected: gauge('1 while connected to the broker, else 0.'),
  dameso_transport_connects_total: counter('Successful connections to the broker (1 + reconnects).'),
  dameso_transport_published_total: counter('MQTT messages published.'),
  dameso_transport_publish_errors_total: counter('Publishes that failed.'),
  dameso_transport_received_total: counter('MQTT messages received.'),
  dameso_transport_rejected_total: counter('Received messages rejected before any handler, by reason.', ['reason']),
  dameso_transport_outbox_records: gauge('Retained changes (have records, withdrawals) kept while the broker is away.'),
  dameso_transport_outbox_forwarded_total: counter('Retained changes kept while away and sent at a reconnect.'),
  dameso_transport_outbox_dropped_total: counter('Retained changes dropped at the outbox bound, oldest first.'),

  dameso_chunks_stored: gauge('Chunks held in the chunk store.'),
  dameso_chunks_stored_bytes: gauge('Bytes of chunk files held in the chunk store.'),
  dameso_backup_mark: gauge('Highest own seq replicated to K storage nodes (the backup push mark).'),
  dameso_backup_lag_entries: gauge(
    'Own entries after the backup mark still to replicate (replication bookkeeping at the tail not counted).',
  ),
  dameso_backup_state: gauge('1 for the state the background backup is in, 0 for the others.', ['state']),
  dameso_survey_rounds_total: counter(
    'Survey rounds this mapper recorded since it started, by outcome (done, skipped, failed).',
    ['outcome'],
  ),
  dameso_survey_last_round_timestamp_seconds: gauge(
    'Wall-clock time of the last survey round recorded since start, seconds since the epoch (0 before the first).',
  ),
} as const satisfies Record<string, Family>;

/** Labelled by `broker` (its listen address). */
export const BROKER_FAMILIES = {
  dameso_broker_connections: gauge('Client connections open now.'),
  dameso_broker_connections_total: counter('Client connections accepted.'),
  dameso_broker_publishes_checked_total: counter('Publishes on dameso topics whose envelope was checked.'),
  dameso_broker_publishes_passed_total: counter('Checked publishes that passed.'),
  dameso_broker_publishes_dropped_total: counter('Checked publishes dropped, by reason.', ['reason']),
  dameso_broker_retain_stripped_total: counter('Publishes whose retain flag was cleared (kinds never retained).'),
  dameso_broker_deliveries_narrowed_total: counter(
    'Intent deliveries skipped: the intent names `to` and not the receiving node.',
  ),
  dameso_broker_wills_refused_total: counter('Connections refused because their Will was not valid presence.'),
  dameso_broker_packets_too_large_total: counter('Connections closed for a packet over the size limit.'),
  dameso_broker_tracked_nodes: gauge('Nodes whose session the envelope check tracks.'),
  dameso_broker_retained_haves: gauge('Retained `have` records stored through this broker.'),
  dameso_broker_haves_not_retained_total: counter(
    'New `have` records delivered live but not stored: --max-have-records was reached.',
  ),
  dameso_broker_haves_over_share_total: counter(
    'New `have` records delivered live but not stored: their node held its share (--max-have-per-node).',
  ),
  dameso_broker_sys_denied_total: counter('$SYS subscriptions refused: no --auth-file and no --allow-sys.'),
  dameso_broker_auth_refused_total: counter('Connections refused by --auth-file (CONNACK 5), by reason.', ['reason']),
  dameso_broker_acl_denied_total: counter(
    'Publishes dropped and subscriptions refused by the ACL, by action (publish, subscribe).',
    ['action'],
  ),
  dameso_broker_tls_handshake_failures_total: counter(
    'Connections to the TLS and wss listeners that failed the TLS handshake (untrusted certificate, not TLS, too old).',
  ),
  dameso_broker_connections_refused_total: counter(
    'Sockets closed at accept by a connection limit or a cool-down, by reason (max_connections, max_connections_per_ip, cooling_down).',
    ['reason'],
  ),
  dameso_broker_disconnected_for_drops_total: counter(
    'Connections closed for more dropped publishes than --max-drops-per-10s (their address then cools down).',
  ),
  dameso_broker_pending_over_budget_total: counter(
    'Connections closed because their bytes would take incomplete packets past --max-pending-mib.',
  ),
  dameso_broker_pending_bytes: gauge('Bytes held in incomplete packets, every connection together.'),
  dameso_broker_stale_deliveries_total: counter(
    'Clustered: deliveries dropped because their publish was older than --fanout-max-age-ms (a Redis outage).',
  ),
  dameso_broker_redis_outages_total: counter('Clustered: Redis outages that ended (each logged once with its length).'),
  dameso_broker_redis_stalls_total: counter(
    'Clustered: Redis stalls that ended (connections up, own heartbeats not back for 3 heartbeats; logged once with their length).',
  ),
  dameso_broker_peers_dead_total: counter('Clustered: peer brokers taken for dead (silent for 3 heartbeats).'),
  dameso_broker_dead_peer_wills_total: counter("Clustered: Wills of dead peer brokers' clients published here."),
  dameso_broker_clients_reannounced_total: counter(
    'Clustered: clients closed (without their Will) so they announce again, because the store lost their Will.',
  ),
  dameso_broker_connections_timed_out_total: counter(
    'Connections closed by a timeout, by phase (connect: no whole CONNECT; packet: a packet not completed; idle).',
    ['phase'],
  ),
} as const satisfies Record<string, Family>;

export type NodeFamily = keyof typeof NODE_FAMILIES;
export type BrokerFamily = keyof typeof BROKER_FAMILIES;
