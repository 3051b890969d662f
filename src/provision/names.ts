/**
 * AWS resource names derived from the app name, in one place: setup creates them, teardown removes them, and the
 * Lambda / `upload --start-job` refer to them. IAM role names are at most 64 characters; the config schema keeps
 * `app` to 32 so every suffix here fits.
 */

/** The role MediaConvert assumes to read the input bucket and write the output bucket. */
export function jobRoleName(app: string): string {
  return `${app}-mediaconvert-job`;
}

/** The partition of a region: ARNs in China and GovCloud regions do not start with arn:aws. */
export function partitionOf(region: string | undefined): string {
  if (region?.startsWith('cn-')) return 'aws-cn';
  if (region?.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

export function roleArn(accountId: string, roleName: string, region?: string): string {
  return `arn:${partitionOf(region)}:iam::${accountId}:role/${roleName}`;
}
