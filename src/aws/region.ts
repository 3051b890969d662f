/**
 * The one region precedence of every verb that calls AWS (issue 12, item 10), as infrastructure tools with a project
 * file resolve it (CDK's stack env, Serverless's provider.region): the project says where the pipeline lives, the
 * environment only fills in what the project leaves open.
 *
 *   1. --region
 *   2. "region" in vidpipe.config.json
 *   3. AWS_REGION
 *   4. AWS_DEFAULT_REGION (the AWS CLI's variable; the JS SDK alone does not read it)
 *   5. the region of the profile (--profile, else AWS_PROFILE, else "default") in the shared config file
 *      (AWS_CONFIG_FILE, else ~/.aws/config: `[profile NAME]` sections, `[default]` for the default profile;
 *      docs.aws.amazon.com/sdkref/latest/guide/file-format.html)
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export type RegionSource = '--region' | 'config' | 'AWS_REGION' | 'AWS_DEFAULT_REGION' | 'profile';

export interface ResolvedRegion {
  region: string;
  source: RegionSource;
}

export interface RegionInputs {
  flag?: string | undefined;
  configRegion?: string | undefined;
  profile?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/** The profile's `region` from the shared config file, or undefined (no file, no section, no region). */
export function profileRegion(profile: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.AWS_CONFIG_FILE || path.join(env.HOME || homedir(), '.aws', 'config');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const wanted = profile === 'default' ? ['default', 'profile default'] : [`profile ${profile}`];
  let inSection = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const section = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (section) {
      inSection = wanted.includes(section[1]!.replace(/\s+/g, ' '));
      continue;
    }
    const kv = /^region\s*=\s*(\S+)$/.exec(line);
    if (inSection && kv) return kv[1];
  }
  return undefined;
}

export function resolveRegion(inputs: RegionInputs): ResolvedRegion | undefined {
  const env = inputs.env ?? process.env;
  if (inputs.flag) return { region: inputs.flag, source: '--region' };
  if (inputs.configRegion) return { region: inputs.configRegion, source: 'config' };
  if (env.AWS_REGION) return { region: env.AWS_REGION, source: 'AWS_REGION' };
  if (env.AWS_DEFAULT_REGION) return { region: env.AWS_DEFAULT_REGION, source: 'AWS_DEFAULT_REGION' };
  const fromProfile = profileRegion(inputs.profile || env.AWS_PROFILE || 'default', env);
  return fromProfile ? { region: fromProfile, source: 'profile' } : undefined;
}

/** The hint of every "no region" error: the precedence, once. */
export const REGION_HINT =
  'Pass --region, set "region" in vidpipe.config.json (`vidpipe init --region …`), set AWS_REGION or AWS_DEFAULT_REGION, or give the profile a region (`aws configure set region … --profile NAME`).';
