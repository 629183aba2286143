/**
 * A byte-bounded LRU of chunk bytes: hot chunks are served without a file read that would queue
 * behind the series' fsyncs on libuv's thread pool. Whatever comes out is still re-hashed by the
 * caller before it is served.
 */
export class ByteCache {
  private readonly items = new Map<string, Uint8Array>();
  private bytes = 0;

  /** @param limitBytes total bytes kept; 0 keeps nothing. */
  constructor(private readonly limitBytes: number) {}

  get(id: string): Uint8Array | undefined {
    return this.items.get(id);
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
