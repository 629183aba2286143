/**
 * The shape of a board profile, validated with zod. A profile is plain data (budgets a node is
 * measured against on that board); see `index.ts` for loading and the cross-field checks.
 */
import * as z from 'zod';

const positiveInt = z.number().int().positive();
const share = z.number().min(0).max(1);

export const BoardSchema = z
  .object({
    /** Profile name; must equal the file name without `.json`. */
    board: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/),
    description: z.string(),
    /** CPU cores of the board (informational; the CPU budget is in `cpu.budgetCores`). */
    cores: positiveInt,
    /**
     * RAM the memory budgets are sized for, bytes (the variant the profile describes). With
     * `--device auto` they are scaled to the RAM the machine has. Optional: without it, no scaling.
     */
    ramBytes: positiveInt.optional(),
    memory: z
      .object({
        /** RSS at which the `memory` limiter reaches 0, bytes. */
        budgetBytes: positiveInt,
        /** The V8 old-space size to run with (`node --max-old-space-size=N`), MiB. */
        maxOldSpaceMb: positiveInt,
      })
      .strict(),
    storage: z
      .object({
        /** Bytes the node may store (series ring + chunk store), bytes. */
        budgetBytes: positiveInt,
        /** Free space on the data folder's file system the node never uses, bytes. */
        reserveBytes: z.number().int().nonnegative(),
        /** statfs period, ms. */
        statfsEveryMs: positiveInt,
        /**
         * Estimated bytes the board's usual storage medium takes before it wears out (a TBW-style
         * endurance figure for its card class, an estimate: README.md "Write budget"). Optional:
         * without it, status shows the write rate but no lifetime.
         */
        writeBudgetBytes: positiveInt.optional(),
      })
      .strict(),
    cpu: z
      .object({
        /** Process CPU use at which the `cpu` limiter reaches 0, cores. */
        budgetCores: z.number().positive(),
        /** Event-loop delay p90 at which the `cpu` limiter reaches 0, ms. */
        loopDelayBudgetMs: z.number().positive(),
        /** CPU sample window, ms. */
        sampleWindowMs: positiveInt,
      })
      .strict(),
    series: z
      .object({
        /** Segment size, bytes. */
        segmentBytes: positiveInt,
        /** Group-commit window for `batch` durability, ms. */
        batchWindowMs: z.number().int().nonnegative(),
        /** Ring budget of the series, bytes (part of `storage.budgetBytes`). */
        ringBudgetBytes: positiveInt,
      })
      .strict(),
    intents: z
      .object({
        /** Intents per window at which `w_tracking` reaches 0. */
        capacityPerWindow: positiveInt,
        /** The `w_tracking` sliding window, ms. */
        windowMs: positiveInt,
      })
      .strict(),
    thresholds: z
      .object({
        yesAbove: share,
        storageFullBelow: share,
        memoryLowBelow: share,
        rateLimitedBelow: share,
        cpuBusyBelow: share,
      })
      .strict(),
  })
  .strict();

export type Board = z.infer<typeof BoardSchema>;
