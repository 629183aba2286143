/**
 * Store-and-forward for the retained records a node owns (`have` records and their withdrawals, the
 * roster barrier record): changes made while the broker is away are kept here and sent in order at
 * the next connect. Retained records are state, not events: only the newest change per topic
 * matters, so a change replaces the one kept for its topic and moves to the end (docs/design-notes.md
 * "Store-and-forward"). Bounded: past `maxRecords` topics the oldest change is dropped and counted.
 * Non-retained messages (intents, replies) are never kept: they would arrive stale.
 */

/** One kept change: an empty payload withdraws the retained record (MQTT-3.3.1-10). */
export interface KeptRecord {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1;
}

export class Outbox {
  private readonly kept = new Map<string, KeptRecord>();
  private dropped_ = 0;

  constructor(readonly maxRecords: number) {}

  /** Keeps `record` as the newest change of its topic; returns the oldest change dropped to make room. */
  put(record: KeptRecord): KeptRecord | undefined {
    this.kept.delete(record.topic); // superseded: the newest change takes the last place
    this.kept.set(record.topic, record);
    if (this.kept.size <= this.maxRecords) return undefined;
    const oldest = this.kept.values().next().value as KeptRecord;
    this.kept.delete(oldest.topic);
    this.dropped_++;
    return oldest;
  }

  has(topic: string): boolean {
    return this.kept.has(topic);
  }

  /** Every kept change, oldest first, leaving the outbox empty. */
  take(): KeptRecord[] {
    const all = [...this.kept.values()];
    this.kept.clear();
    return all;
  }

  get size(): number {
    return this.kept.size;
  }

  /** Changes dropped at the bound since the transport was created. */
  get dropped(): number {
    return this.dropped_;
  }
}
