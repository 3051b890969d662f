/**
 * Clean stdout (ARCHITECTURE convention 8, after aws-cdk's IoHost): results go to stdout, every diagnostic to stderr.
 * With --json, stdout carries exactly one JSON document and nothing else. Colour only on a TTY, never with NO_COLOR.
 */
import { Chalk, type ChalkInstance } from 'chalk';

export type Verbosity = 'quiet' | 'normal' | 'verbose';

export interface OutputOptions {
  json?: boolean;
  verbosity?: Verbosity;
  color?: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
}

export function colorWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, flag?: boolean): boolean {
  if (flag === false) return false;
  // https://no-color.org: any non-empty NO_COLOR disables colour.
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (flag === true) return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export class Output {
  readonly json: boolean;
  readonly verbosity: Verbosity;
  /** Colours for stdout text. */
  readonly c: ChalkInstance;
  /** Colours for stderr text. */
  readonly ec: ChalkInstance;
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  private jsonWritten = false;

  constructor(options: OutputOptions = {}) {
    const env = options.env ?? process.env;
    this.json = options.json ?? false;
    this.verbosity = options.verbosity ?? 'normal';
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
    this.c = new Chalk({ level: colorWanted(this.stdout, env, options.color) ? 1 : 0 });
    this.ec = new Chalk({ level: colorWanted(this.stderr, env, options.color) ? 1 : 0 });
  }

  /** True when stderr is an interactive terminal (progress bars, spinners). */
  get interactive(): boolean {
    return this.stderr.isTTY === true && !this.json;
  }

  /**
   * The command's result. With --json, `doc` is printed as the one JSON document; otherwise `render` (or the doc
   * itself when it is a string) is printed as text.
   */
  result(doc: unknown, render?: (c: ChalkInstance) => string): void {
    if (this.json) {
      if (this.jsonWritten) throw new Error('Output.result called twice in --json mode');
      this.jsonWritten = true;
      this.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      return;
    }
    const text = render ? render(this.c) : typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2);
    if (text !== '') this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Raw text to stdout, for commands whose output is data (e.g. `simulate-complete --print`). */
  data(text: string): void {
    this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  info(message: string): void {
    if (this.verbosity !== 'quiet') this.stderr.write(`${message}\n`);
  }

  success(message: string): void {
    if (this.verbosity !== 'quiet') this.stderr.write(`${this.ec.green('✔')} ${message}\n`);
  }

  warn(message: string): void {
    this.stderr.write(`${this.ec.yellow('warning:')} ${message}\n`);
  }

  error(message: string, hint?: string): void {
    this.stderr.write(`${this.ec.red('error:')} ${message}\n`);
    if (hint) this.stderr.write(`${this.ec.dim('hint:')} ${hint}\n`);
  }

  debug(message: string): void {
    if (this.verbosity === 'verbose') this.stderr.write(`${this.ec.dim(message)}\n`);
  }
}

/** A fixed-width text table for summaries (plan, status). */
export function renderTable(headers: string[], rows: string[][]): string {
  // Width ignores ANSI colour codes.
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
  const widths = headers.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visible(cell)))).join('  ');
  return [line(headers), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}
