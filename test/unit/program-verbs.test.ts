/**
 * The CLI registers only the verb a command line runs (startup, issue 17): the root help built from the verb table must
 * read exactly as the one built from every verb registered in full, and the verb must be found wherever it sits.
 */
import { describe, expect, it } from 'vitest';
import { buildProgram, verbOf } from '../../src/cli/program.js';
import { VERBS } from '../../src/cli/commands/index.js';
import { DEFAULT_LISTENER_PATH } from '../../src/config/config.js';

const argv = (...args: string[]) => ['node', 'vidpipe', ...args];

describe('the program registers only the verb it runs', () => {
  it('root help from the verb table equals the help with every verb registered', async () => {
    const full = await buildProgram();
    const lazy = await buildProgram(argv('--help'));
    expect(lazy.helpInformation()).toBe(full.helpInformation());
    expect(lazy.commands.map((c) => c.name())).toEqual(full.commands.map((c) => c.name()));
    // Each verb's own help keeps the summary it is listed with.
    for (const verb of VERBS) expect(full.commands.find((c) => c.name() === verb.name)?.description()).toBe(verb.summary);
    expect(VERBS.find((v) => v.name === 'listen')?.summary).toContain(`POST ${DEFAULT_LISTENER_PATH}`);
  });

  it('finds the verb after global options and their values, and in `help <verb>`', () => {
    expect(verbOf(argv('setup', '--yes'))).toBe('setup');
    expect(verbOf(argv('--json', '-c', 'listen', 'status'))).toBe('status');
    expect(verbOf(argv('--config=x.json', '-v', 'dlq', 'list'))).toBe('dlq');
    expect(verbOf(argv('help', 'upload'))).toBe('upload');
    expect(verbOf(argv('setpu'))).toBeUndefined();
    expect(verbOf(argv('--help'))).toBeUndefined();
    expect(verbOf(argv())).toBeUndefined();
  });

  it('registers the named verb in full, and nothing else', async () => {
    const program = await buildProgram(argv('--json', 'notifications', 'retry', '--failed'));
    expect(program.commands.map((c) => c.name())).toEqual(['notifications']);
    expect(program.commands[0]?.commands.map((c) => c.name())).toContain('retry');
  });
});
