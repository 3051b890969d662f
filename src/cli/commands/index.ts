/**
 * Every verb, in the order `vidpipe --help` lists them. Each module registers its options and imports its service
 * lazily inside the action.
 */
import type { Command } from 'commander';
import { registerInit } from './init.js';
import { registerListen } from './listen.js';
import { registerNotifications } from './notifications.js';
import { registerLocal } from './local.js';
import { registerPolicy } from './policy.js';
import { registerSetup } from './setup.js';
import { registerSimulateComplete } from './simulate-complete.js';
import { registerStatus } from './status.js';
import { registerTeardown } from './teardown.js';
import { registerUpload } from './upload.js';
import { registerDoctor } from './doctor.js';
import { registerDlq } from './dlq.js';
import { registerReplay } from './replay.js';

export function registerCommands(program: Command): void {
  registerInit(program);
  registerSetup(program);
  registerStatus(program);
  registerTeardown(program);
  registerPolicy(program);
  registerUpload(program);
  registerListen(program);
  registerNotifications(program);
  registerSimulateComplete(program);
  registerDoctor(program);
  registerDlq(program);
  registerReplay(program);
  registerLocal(program);
}
