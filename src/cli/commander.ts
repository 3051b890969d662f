/**
 * commander, for every module of the CLI, through require(). commander's ESM entry (esm.mjs) wraps its CommonJS build:
 * importing it evaluates the wrapper too and makes Node scan index.js for its named exports (cjs-module-lexer).
 * require() skips both: `vidpipe --help` 125.4 → 122.3 and 119.1 → 116.6 ms, `node -e 0` ~87 (medians of 31
 * interleaved runs each, issue 17). Types may still come from 'commander' (`import type`: erased at build).
 */
import { createRequire } from 'node:module';
import type * as Commander from 'commander';

export const { Command, Help, Option, CommanderError } = createRequire(import.meta.url)('commander') as typeof Commander;
export type Command = Commander.Command;
export type Option = Commander.Option;
