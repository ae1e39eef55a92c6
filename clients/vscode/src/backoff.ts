/**
 * When to restart a crashed server: exponential backoff, reset after a stable run, and a give-up
 * point so a server that cannot start does not restart forever. Pure module, unit-tested under node.
 */

export interface BackoffOptions {
  /** Delay before the first restart. */
  initialMs: number;
  /** Each further crash multiplies the delay by this. */
  factor: number;
  /** The delay never exceeds this. */
  maxMs: number;
  /** Crashes in a row (without a stable run between them) before giving up. */
  maxAttempts: number;
  /** A server that ran at least this long before crashing starts the count afresh. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 1_000,
  factor: 2,
  maxMs: 30_000,
  maxAttempts: 5,
  stableMs: 60_000,
};

export class Backoff {
  private attempts = 0;

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {}

  /** Crashes counted since the last stable run. */
  get crashes(): number {
    return this.attempts;
  }

  /**
   * Record a crash of a server that started at `startedAt` (ms) and died at `now` (ms); returns the
   * delay before restarting it, or undefined to give up.
   */
  onCrash(startedAt: number, now: number): number | undefined {
    if (now - startedAt >= this.options.stableMs) {
      this.attempts = 0;
    }
    this.attempts += 1;
    if (this.attempts > this.options.maxAttempts) {
      return undefined;
    }
    const delay = this.options.initialMs * this.options.factor ** (this.attempts - 1);
    return Math.min(delay, this.options.maxMs);
  }

  /** Forget past crashes (after a restart the user asked for). */
  reset(): void {
    this.attempts = 0;
  }
}
