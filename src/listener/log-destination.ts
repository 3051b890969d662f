/**
 * Where the listener's JSON log lines go (stdout by default), written so that logging can never stop ingest.
 *
 * pino's default destination is a synchronous sonic-boom: on stdout redirected to a full disk or /dev/full it retried
 * in `Atomics.wait` (the event loop froze: no /healthz, SIGTERM ignored) or threw an unhandled ENOSPC. Here:
 *
 * - nothing blocks the event loop: a pipe or socket is written through a libuv stream, whose writes queue in memory
 *   when the reader is slow (and are given up at close, so a stalled reader cannot keep the process alive); anything else (a file, /dev/full, a terminal) through async
 *   `fs.write` on libuv's thread pool, one write in flight;
 * - lines are gathered for one turn of the event loop and written together: a write per line (a syscall on the stream,
 *   a thread-pool round trip for a file) took ~9 % of the listener's event-loop samples at 3,000 events/s, one info
 *   line per event, and 0.2 % once gathered (CPU profiles, bench/README.md); a crash loses at most one turn's lines;
 * - memory is bounded: lines beyond `maxBufferedBytes` waiting to be written are dropped, and counted;
 * - a failing destination (ENOSPC, EPIPE, EBADF, a closed stdout…) never throws or emits an unhandled 'error': its lines
 *   are dropped and counted, `onFailure` is called once, and a file-like destination is tried again after
 *   `retryAfterMs` (a disk that filled up may get space back), which then logs how many lines were lost. A pipe or
 *   socket whose reader went away (EPIPE) stays dropped: nobody is reading.
 */
import { fstatSync, write as fsWrite } from 'node:fs';
import net from 'node:net';

export interface LogDestinationOptions {
  /** Default 1 (stdout). */
  fd?: number;
  /** Log bytes waiting to be written beyond which new lines are dropped (default 4 MiB). */
  maxBufferedBytes?: number;
  /** After a failure of a file-like destination, how long lines are dropped before it is tried again (default 5 s). */
  retryAfterMs?: number;
  /** Called once, at the first failure (print a warning where it can be seen; it must not throw). */
  onFailure?(err: NodeJS.ErrnoException): void;
}

export interface LogDestination {
  /** What pino calls with each line. Never throws, never blocks. */
  write(line: string): boolean;
  /** Lines dropped so far. */
  readonly dropped: number;
  /** The error that made the destination fail, if it has. */
  readonly failure: NodeJS.ErrnoException | undefined;
  /** Waits (up to `timeoutMs`) for buffered lines to be written, then stops; later lines are dropped. */
  close(timeoutMs?: number): Promise<void>;
}

const DEFAULT_MAX_BUFFERED = 4 * 1024 * 1024;

export function createLogDestination(options: LogDestinationOptions = {}): LogDestination {
  const fd = options.fd ?? 1;
  let kind: 'stream' | 'file';
  try {
    const st = fstatSync(fd);
    kind = st.isFIFO() || st.isSocket() ? 'stream' : 'file';
  } catch {
    // A closed stdout (EBADF): a file-like destination that fails at its first write and is dropped.
    kind = 'file';
  }
  return kind === 'stream' ? new StreamDestination(fd, options) : new FileDestination(fd, options);
}

abstract class BaseDestination implements LogDestination {
  dropped = 0;
  failure: NodeJS.ErrnoException | undefined;
  protected closed = false;
  private warned = false;
  protected readonly maxBuffered: number;

  constructor(protected readonly options: LogDestinationOptions) {
    this.maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
  }

  abstract write(line: string): boolean;
  abstract close(timeoutMs?: number): Promise<void>;

  protected fail(err: NodeJS.ErrnoException): void {
    this.failure = err;
    if (this.warned) return;
    this.warned = true;
    try {
      this.options.onFailure?.(err);
    } catch {
      // The warning is best effort: stderr may be failing too.
    }
  }
}

/** A pipe or a socket: a libuv stream, never blocking; a slow reader makes its queue grow up to the bound. */
class StreamDestination extends BaseDestination {
  private readonly stream: net.Socket;
  /** Lines handed to the stream and not yet written. */
  private pending = 0;
  /** Lines of this turn of the event loop, written together at its end. */
  private turn: string[] = [];
  private turnBytes = 0;

  constructor(fd: number, options: LogDestinationOptions) {
    super(options);
    // Our own handle on the descriptor, not process.stdout: process.stdout cannot be destroyed, and its queued writes
    // to a pipe nobody reads would keep the process alive after SIGTERM. Nothing else writes to stdout in `listen`.
    this.stream = new net.Socket({ fd, readable: false, writable: true });
    // EPIPE (the reader went away) and the like: counted and dropped from now on, never an unhandled 'error'.
    this.stream.on('error', (err: NodeJS.ErrnoException) => this.fail(err));
  }

  write(line: string): boolean {
    if (this.closed || this.failure || this.stream.destroyed || this.stream.writableLength + this.turnBytes > this.maxBuffered) {
      this.dropped++;
      return true;
    }
    if (this.turn.push(line) === 1) setImmediate(() => this.flushTurn());
    this.turnBytes += line.length;
    // Always true: pino must not wait for 'drain' (that is the bound's job).
    return true;
  }

  private flushTurn(): void {
    const lines = this.turn;
    this.turn = [];
    this.turnBytes = 0;
    if (!lines.length) return;
    if (this.failure || this.stream.destroyed) {
      this.dropped += lines.length;
      return;
    }
    try {
      this.pending += lines.length;
      this.stream.write(lines.join(''), () => (this.pending -= lines.length));
    } catch (err) {
      this.pending -= lines.length;
      this.dropped += lines.length;
      this.fail(err as NodeJS.ErrnoException);
    }
  }

  async close(timeoutMs = 1_000): Promise<void> {
    this.closed = true;
    this.flushTurn();
    if (this.failure || this.stream.writableLength === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      this.stream.once('drain', done);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.stream.off('drain', done);
        resolve();
      }
    });
    // What is still queued after the deadline is given up: a stalled reader must not keep the process alive.
    if (this.stream.writableLength > 0) {
      this.dropped += this.pending;
      this.stream.destroy();
    }
  }
}

/** A file, a character device (/dev/full) or a terminal: async fs.write on the thread pool, one write in flight. */
class FileDestination extends BaseDestination {
  private queue: string[] = [];
  private queuedBytes = 0;
  private writing = false;
  /** A write of this turn's lines is scheduled for the end of the turn. */
  private scheduled = false;
  private retryAt = 0;
  /** Lines dropped since the last failure, reported when writing works again. */
  private lostSinceFailure = 0;
  private idle: Array<() => void> = [];

  constructor(
    private readonly fd: number,
    options: LogDestinationOptions,
  ) {
    super(options);
  }

  write(line: string): boolean {
    if (this.closed) {
      this.dropped++;
      return true;
    }
    if (this.failure && Date.now() < this.retryAt) {
      this.drop();
      return true;
    }
    if (this.queuedBytes + line.length > this.maxBuffered) {
      this.drop();
      return true;
    }
    this.queue.push(line);
    this.queuedBytes += line.length;
    if (!this.writing && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        if (!this.writing) this.flushNext();
      });
    }
    return true;
  }

  private drop(): void {
    this.dropped++;
    if (this.failure) this.lostSinceFailure++;
  }

  private flushNext(): void {
    if (!this.queue.length) {
      this.writing = false;
      for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    this.writing = true;
    let notes = 0;
    if (this.failure && this.lostSinceFailure) {
      notes = 1;
      // Writing is being tried again: say first what was lost meanwhile (a line in pino's shape, level warn).
      this.queue.unshift(
        `${JSON.stringify({ level: 40, time: Date.now(), msg: `${this.lostSinceFailure} log lines were dropped: the log destination failed (${this.failure.code ?? this.failure.message})` })}\n`,
      );
    }
    const text = this.queue.join('');
    const count = this.queue.length - notes;
    this.queue = [];
    this.queuedBytes = 0;
    const buffer = Buffer.from(text);
    const writeFrom = (offset: number) =>
      fsWrite(this.fd, buffer, offset, buffer.length - offset, null, (err, written) => {
        if (err) {
          if (err.code === 'EAGAIN') {
            // A non-blocking terminal or device that is momentarily full: try the rest again shortly.
            setTimeout(() => writeFrom(offset), 50).unref();
            return;
          }
          this.dropped += count;
          this.lostSinceFailure += count;
          this.retryAt = Date.now() + (this.options.retryAfterMs ?? 5_000);
          this.fail(err);
          // Lines that arrived while this write was in flight are dropped too: the destination is failing.
          this.dropped += this.queue.length;
          this.lostSinceFailure += this.queue.length;
          this.queue = [];
          this.queuedBytes = 0;
          this.flushNext();
          return;
        }
        if (offset + written < buffer.length) return writeFrom(offset + written);
        if (this.failure) {
          // Writing works again.
          this.failure = undefined;
          this.lostSinceFailure = 0;
        }
        this.flushNext();
      });
    writeFrom(0);
  }

  async close(timeoutMs = 1_000): Promise<void> {
    this.closed = true;
    if (!this.writing && this.queue.length) this.flushNext();
    if (!this.writing) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
