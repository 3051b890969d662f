/**
 * Every verb, in the order `vidpipe --help` lists them. Each module registers its options and imports its service
 * lazily inside the action.
 */
import type { Command } from 'commander';
import { registerUpload } from './upload.js';

export function registerCommands(program: Command): void {
  registerUpload(program);
}
