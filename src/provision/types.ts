/**
 * The shape of a provisioned resource. Each module in resources/ describes one AWS resource (or one instance of a
 * kind, e.g. one job template): what it should be (desired, pure), what it is (observe, reads AWS), how its
 * differences read (diff, pure), and how to make it so (apply) or remove it (destroy). Adding a resource is one
 * file plus one line in resources/index.ts.
 */
import type { AwsContext } from '../aws/context.js';
import type { VidpipeConfig } from '../config/config.js';
import type { LambdaBundle } from '../lambda/bundle.js';
import type { Difference } from './diff.js';
import type { ArnContext, ResourceNames } from './names.js';

export interface ProvisionEnv extends ArnContext {
  config: VidpipeConfig;
  names: ResourceNames;
  /** The local secrets file (.vidpipe/secrets.json) that `vidpipe listen` reads. */
  secretsFile: string;
  /** The local marker of what setup last wrote to the connection (no secret in it). */
  stateFile: string;
  /** setup --rotate-key */
  rotateKey: boolean;
  /** The trigger function's zip, built when the config asks for the Lambda trigger. */
  lambdaBundle?: LambdaBundle;
}

/** What other resources have observed or applied, by resource id: ARNs that only exist once created. */
export type World = ReadonlyMap<string, Observed | undefined>;

/** Every observed state may carry an ARN and a few lines for `status`. */
export interface Observed {
  arn?: string;
}

export interface ResourceModule<D = unknown, O extends object = object> {
  /** Unique id, e.g. "input-bucket", "job-template:mp4". */
  id: string;
  /** What it is, for tables: "S3 bucket", "IAM role". */
  kind: string;
  dependsOn: readonly string[];
  /** The AWS name (for tables and messages). */
  name(env: ProvisionEnv): string;
  /** The desired state, or undefined when the config does not want this resource (it is then deleted if present). */
  desired(env: ProvisionEnv): D | undefined;
  /** The current state in AWS, or undefined when it does not exist. */
  observe(aws: AwsContext, env: ProvisionEnv): Promise<O | undefined>;
  /** Pure: how the observed state differs from the desired one, field by field where it can (empty when in sync). */
  diff(desired: D, observed: O, world: World, env: ProvisionEnv): Difference[];
  /** Creates (observed undefined) or updates the resource; returns its new state. */
  apply(aws: AwsContext, desired: D, observed: O | undefined, world: World, env: ProvisionEnv): Promise<O>;
  destroy(aws: AwsContext, observed: O, env: ProvisionEnv): Promise<void>;
  /** Extra facts for `status` (connection state, alarm state, queue depth). */
  details?(observed: O): Record<string, string | number>;
}

// Modules are heterogeneous: the registry holds them with their generics erased.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyResource = ResourceModule<any, any>;
