/**
 * Prompts always have a default (ARCHITECTURE convention 9). With --yes, or without a TTY, nothing waits on stdin:
 * the default is taken, or — for a destructive action with no safe default — a UsageError says which flag to pass.
 * inquirer is imported only when a prompt is really shown.
 */
import { UsageError } from '../errors.js';

export interface PromptContext {
  yes: boolean;
  /** stdin and stderr are both terminals. */
  interactive: boolean;
  /** --json: never asks, whatever the terminal. */
  json?: boolean;
}

export function promptContext(yes: boolean, json = false): PromptContext {
  return { yes, json, interactive: !json && process.stdin.isTTY === true && process.stderr.isTTY === true };
}

export async function confirm(
  ctx: PromptContext,
  message: string,
  options: { default?: boolean; destructive?: boolean; flag?: string; /** Changes something: never taken as a default. */ required?: boolean; hint?: string } = {},
): Promise<boolean> {
  if (ctx.yes) return true;
  if (!ctx.interactive) {
    if (options.destructive || options.required)
      throw new UsageError(
        'CONFIRMATION_REQUIRED',
        `${message.replace(/\?$/, '')}: this needs confirmation, and ${ctx.json ? '--json never asks' : 'there is no terminal to ask on'}. Nothing was changed.`,
        { hint: `Pass ${options.flag ?? '--yes'} to confirm.${options.hint ? ` ${options.hint}` : ''}` },
      );
    return options.default ?? false;
  }
  const { default: inquirer } = await import('inquirer');
  const answer = await inquirer.prompt<{ ok: boolean }>(
    [{ type: 'confirm', name: 'ok', message, default: options.default ?? false }],
    { output: process.stderr },
  );
  return answer.ok;
}

export async function ask(ctx: PromptContext, message: string, defaultValue: string, validate?: (v: string) => true | string): Promise<string> {
  if (ctx.yes || !ctx.interactive) return defaultValue;
  const { default: inquirer } = await import('inquirer');
  const answer = await inquirer.prompt<{ value: string }>(
    [{ type: 'input', name: 'value', message, default: defaultValue, ...(validate ? { validate } : {}) }],
    { output: process.stderr },
  );
  return answer.value;
}
