/**
 * Every verb, in the order `vidpipe --help` lists them. Each module registers its options and imports its service
 * lazily inside the action.
 */
import type { Command } from 'commander';

export function registerCommands(program: Command): void {
  void program;
}
