/**
 * What every command gets from the global options: the Output, verbosity and the config path. Options are validated
 * here, at the edge (ARCHITECTURE convention 3); services get typed values.
 */
import type { Command } from 'commander';
import { Option } from './commander.js';
import path from 'node:path';
import { resolveRegion, type RegionSource } from '../aws/region.js';
import { UsageError } from '../errors.js';
import { Output, type Verbosity } from '../output/output.js';

export interface GlobalOptions {
  json: boolean;
  verbosity: Verbosity;
  color: boolean | undefined;
  /** Absolute path of vidpipe.config.json (it may not exist). */
  configPath: string;
}

export interface CommandContext {
  globals: GlobalOptions;
  out: Output;
}

export function commandContext(cmd: Command): CommandContext {
  const o = cmd.optsWithGlobals() as Record<string, unknown>;
  const verbosity: Verbosity = o.verbose ? 'verbose' : o.quiet ? 'quiet' : 'normal';
  // --no-color sets color=false; commander's default for a --no-* flag is true, which we read as "auto".
  const color = o.color === false ? false : undefined;
  const configPath = path.resolve(typeof o.config === 'string' ? o.config : 'vidpipe.config.json');
  const globals: GlobalOptions = { json: Boolean(o.json), verbosity, color, configPath };
  return { globals, out: new Output({ json: globals.json, verbosity, color }) };
}

export interface AwsCliOptions {
  profile?: string;
  region?: string;
  endpointUrl?: string;
}

/** --profile, --region, --endpoint-url: the same on every verb that calls AWS. */
export function addAwsOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--profile <name>', 'AWS profile (default: AWS_PROFILE or the default chain)'))
    .addOption(new Option('--region <region>', 'AWS region (default: the config\'s region, then AWS_REGION, AWS_DEFAULT_REGION, then the profile\'s)'))
    .addOption(
      new Option('--endpoint-url <url>', 'send AWS calls to this endpoint (an emulator); AWS_ENDPOINT_URL_<SERVICE> still wins for its service'),
    );
}

export function awsOptionsFrom(o: Record<string, unknown>): AwsCliOptions {
  const pick = (k: string) => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined);
  const endpointUrl = pick('endpointUrl');
  if (endpointUrl !== undefined) parseUrl(endpointUrl, '--endpoint-url');
  const region = pick('region');
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    throw new UsageError('BAD_REGION', `--region must be an AWS region name such as us-east-1, got "${region}".`);
  return { profile: pick('profile'), region, endpointUrl };
}

/** Where a run acts: the AWS options with the region resolved once, by the one precedence (src/aws/region.ts). */
export interface AwsTarget {
  region?: string;
  regionSource?: RegionSource;
  profile?: string;
  endpointUrl?: string;
}

export function awsTargetFrom(cli: AwsCliOptions, configRegion: string | undefined, env: NodeJS.ProcessEnv = process.env): AwsTarget {
  const resolved = resolveRegion({ flag: cli.region, configRegion, profile: cli.profile, env });
  return {
    ...(resolved ? { region: resolved.region, regionSource: resolved.source } : {}),
    ...(cli.profile ? { profile: cli.profile } : {}),
    ...(cli.endpointUrl ? { endpointUrl: cli.endpointUrl } : {}),
  };
}

export function parseUrl(value: string, what: string): URL {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    return url;
  } catch {
    throw new UsageError('BAD_URL', `${what} must be an http:// or https:// URL, got "${value}".`);
  }
}

export function parseInteger(value: string, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError('BAD_NUMBER', `${what} must be a whole number from ${min} to ${max}, got "${value}".`);
  return n;
}
