/**
 * A byte-bounded LRU of chunk bytes: hot chunks are served without a file read that would queue
 * behind the series' fsyncs on libuv's thread pool. It keeps the arrays it is given: the store
 * puts only verified private copies in (see `DiskChunkStore.hit`).
 */
export class ByteCache {
  private readonly items = new Map<string, Uint8Array>();
  private bytes = 0;

  /** @param limitBytes total bytes kept; 0 keeps nothing. */
  constructor(private readonly limitBytes: number) {}

  /** The bytes, now the most recently used. */
  get(id: string): Uint8Array | undefined {
    const b = this.items.get(id);
    if (b) {
      this.items.delete(id);
      this.items.set(id, b);
    }
    return b;
  }

  /** Keeps `bytes` as the most recently used, dropping the least recently used past the bound. */
  set(id: string, bytes: Uint8Array): void {
    if (bytes.length > this.limitBytes) return;
    this.delete(id);
    this.items.set(id, bytes);
    this.bytes += bytes.length;
    for (const [old, b] of this.items) {
      if (this.bytes <= this.limitBytes) break;
      this.items.delete(old);
      this.bytes -= b.length;
    }
  }

  delete(id: string): void {
    const b = this.items.get(id);
    if (b) {
      this.items.delete(id);
      this.bytes -= b.length;
    }
  }

  get size(): number {
    return this.bytes;
  }
}
