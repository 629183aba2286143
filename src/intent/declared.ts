/**
 * One declared intent while it is open: collects replies, knows who is still awaited, and is both
 * awaitable (the closed outcome) and async-iterable (each reply as it comes).
 */
import type { DeclaredIntent, Outcome, ReceivedReply } from './types.js';

export interface OpenIntentInit {
  id: string;
  kind: string;
  subject: string | undefined;
  /** node → session at declaration. */
  expected: ReadonlyMap<string, number>;
  declaredAt: number;
}

export class OpenIntent implements DeclaredIntent {
  readonly id: string;
  readonly kind: string;
  readonly subject: string | undefined;
  readonly expected: readonly string[];
  readonly expectedSessions: ReadonlyMap<string, number>;
  readonly declaredAt: number;
  /** Expected nodes still awaited (neither answered nor offline). */
  readonly waiting: Set<string>;
  readonly replies: ReceivedReply[] = [];
  readonly offline: string[] = [];
  /** Nodes that already replied (a second reply from the same node is ignored). */
  readonly repliedFrom = new Set<string>();
  /** Monotonic ms at which the deadline closes it (set by the declare side). */
  dueAt = Number.POSITIVE_INFINITY;
  outcome: Outcome | undefined;
  private wakers: Array<() => void> = [];
  private readonly done: Promise<Outcome>;
  private resolveDone!: (outcome: Outcome) => void;

  constructor(init: OpenIntentInit) {
    this.id = init.id;
    this.kind = init.kind;
    this.subject = init.subject;
    this.expectedSessions = init.expected;
    this.expected = [...init.expected.keys()];
    this.waiting = new Set(this.expected);
    this.declaredAt = init.declaredAt;
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  get closed(): boolean {
    return this.outcome !== undefined;
  }

  addReply(reply: ReceivedReply): void {
    this.replies.push(reply);
    this.wake();
  }

  close(outcome: Outcome): void {
    this.outcome = outcome;
    this.resolveDone(outcome);
    this.wake();
  }

  // biome-ignore lint/suspicious/noThenProperty: DeclaredIntent is awaitable by contract (PromiseLike).
  then<A = Outcome, B = never>(
    onFulfilled?: ((value: Outcome) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.done.then(onFulfilled, onRejected);
  }

  [Symbol.asyncIterator](): AsyncIterator<ReceivedReply> {
    let i = 0;
    return {
      next: async (): Promise<IteratorResult<ReceivedReply>> => {
        for (;;) {
          const r = this.replies[i];
          if (r !== undefined) {
            i++;
            return { value: r, done: false };
          }
          if (this.closed) return { value: undefined, done: true };
          await new Promise<void>((resolve) => this.wakers.push(resolve));
        }
      },
    };
  }

  private wake(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const f of w) f();
  }
}
