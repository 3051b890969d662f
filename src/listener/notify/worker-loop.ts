/**
 * A background loop that never dies quietly (ARCHITECTURE convention 14): each turn's error is logged and the turn
 * retried with capped backoff; only stop() ends it. readiness() tells /readyz whether it still turns. The outbox
 * consumers (Slack notifier, forwarder) are loops of this kind; a turn returns how long to wait before the next.
 */
import type { FastifyBaseLogger } from 'fastify';
import { backoffDelay } from '../core/notification-policy.js';
import { StoreUnavailableError, type Readiness } from '../core/store-port.js';

export interface WorkerLoopOptions {
  logger?: FastifyBaseLogger;
  clock?: () => number;
  /** In [0, 1): jitter. */
  random?: () => number;
  /** Longest wait between turns when nothing wakes the loop. */
  pollMs: number;
  /** The longest a healthy turn may take (an HTTP timeout), for readiness. */
  turnBudgetMs: number;
}

export abstract class WorkerLoop {
  protected readonly clock: () => number;
  protected readonly random: () => number;
  protected readonly logger: FastifyBaseLogger | undefined;
  protected stopping = false;
  protected readonly stopController = new AbortController();
  private running: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private lastTurnAt: number;
  private failures = 0;
  private lastError: string | undefined;

  constructor(
    /** For log lines and readiness reasons: "notifier", "forwarder". */
    private readonly name: string,
    private readonly loopOptions: WorkerLoopOptions,
  ) {
    this.clock = loopOptions.clock ?? Date.now;
    this.random = loopOptions.random ?? Math.random;
    this.logger = loopOptions.logger;
    this.lastTurnAt = this.clock();
  }

  /** One turn; returns the milliseconds to wait before the next (0: at once). */
  protected abstract turn(): Promise<number>;

  start(): void {
    this.running ??= this.loop();
  }

  /** Something new was committed: look now. */
  wake(): void {
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopController.abort();
    this.wakeUp?.();
    await this.running;
  }

  /** Not ready when the loop has not completed a turn for much longer than a poll interval allows. */
  readiness(): Readiness {
    const late = this.clock() - this.lastTurnAt;
    const allowed = 2 * this.loopOptions.pollMs + this.loopOptions.turnBudgetMs + 5000;
    if (late <= allowed) return { ready: true };
    return { ready: false, reason: `the ${this.name} has not completed a turn for ${Math.round(late / 1000)} s${this.lastError ? ` (last error: ${this.lastError})` : ''}` };
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        const waitMs = await this.turn();
        this.failures = 0;
        this.lastError = undefined;
        this.lastTurnAt = this.clock();
        if (waitMs > 0) await this.sleep(waitMs);
      } catch (err) {
        // A busy or unreachable database, or a bug in one row: log, back off, go on. Never end the loop.
        this.failures += 1;
        this.lastError = (err as Error)?.message ?? String(err);
        const pollMs = this.loopOptions.pollMs;
        const delay = backoffDelay(this.failures, { baseMs: Math.min(1000, pollMs), maxMs: Math.max(pollMs, 30_000) }, this.random);
        this.logger?.error({ err, retryInMs: delay }, `${this.name} turn failed; retrying`);
        await this.sleep(delay);
      }
    }
  }

  /**
   * Records what a delivery did. The message has left already, so a busy or unreachable database is waited out (with
   * backoff, up to `withinMs` — less than the row's lease) instead of giving up: otherwise the row's lease would expire
   * and the message be sent again.
   */
  protected async persist<T>(write: () => Promise<T>, withinMs: number): Promise<T> {
    const until = this.clock() + withinMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (err) {
        if (!(err instanceof StoreUnavailableError) || this.clock() >= until) throw err;
        await new Promise((r) => setTimeout(r, backoffDelay(attempt, { baseMs: 50, maxMs: 1000 }, this.random)));
      }
    }
  }

  protected sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.wakeUp === wake) self.wakeUp = undefined;
        resolve();
      }
      const wake = () => done();
      this.wakeUp = wake;
    });
  }
}
