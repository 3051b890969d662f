/**
 * Typed errors that say what to do. Commands and services throw these; only src/cli/main.ts turns them into a
 * process exit code (convention 4 and 5 of ARCHITECTURE.md, after aws-cdk's ToolkitError).
 */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  aws: 3,
  drift: 4,
  remote: 5,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface VidpipeErrorOptions {
  /** What the user can do about it: "run `vidpipe setup`", "add iam:PassRole on …". */
  hint?: string;
  exitCode?: ExitCode;
  cause?: unknown;
  /** Extra fields for --json output. Never put a secret here. */
  details?: Record<string, unknown>;
  /**
   * The command already printed its result (e.g. `status` with drift exits 4 after its table or JSON document):
   * main then writes only the message to stderr, never a second JSON document.
   */
  resultPrinted?: boolean;
}

export class VidpipeError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;
  readonly details: Record<string, unknown> | undefined;
  readonly resultPrinted: boolean;

  constructor(code: string, message: string, options: VidpipeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VidpipeError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.internal;
    this.details = options.details;
    this.resultPrinted = options.resultPrinted ?? false;
  }
}

/** Bad flags, bad config, bad input file: exit 2. */
export class UsageError extends VidpipeError {
  constructor(code: string, message: string, options: Omit<VidpipeErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...options, exitCode: ExitCode.usage });
    this.name = 'UsageError';
  }
}

/** Credentials, permissions or an unreachable AWS endpoint: exit 3. */
export class AwsAccessError extends VidpipeError {
  constructor(code: string, message: string, options: Omit<VidpipeErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...options, exitCode: ExitCode.aws });
    this.name = 'AwsAccessError';
  }
}

/** The other side answered but said no (listener non-2xx, PutEvents failed entries): exit 5. */
export class RemoteRejectedError extends VidpipeError {
  constructor(code: string, message: string, options: Omit<VidpipeErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...options, exitCode: ExitCode.remote });
    this.name = 'RemoteRejectedError';
  }
}

/** Ctrl-C: exit 130, after whatever cleanup the command did. */
export class InterruptedError extends VidpipeError {
  constructor(message = 'Interrupted', options: Omit<VidpipeErrorOptions, 'exitCode'> = {}) {
    super('INTERRUPTED', message, { ...options, exitCode: ExitCode.interrupted });
    this.name = 'InterruptedError';
  }
}

export function isVidpipeError(err: unknown): err is VidpipeError {
  return err instanceof VidpipeError;
}
