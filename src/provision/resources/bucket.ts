/**
 * The S3 input and output buckets: created when missing, adopted when they already exist in this account (the
 * original system's buckets were made by hand); public access blocked, default encryption, the app tag added to the
 * bucket's own tags. A bucket owned by another account is refused. Teardown deletes buckets only when asked to
 * (--delete-buckets), emptying every object version first.
 */
import { change, type Difference } from '../diff.js';
import { UsageError } from '../../errors.js';
import { httpStatusOf } from '../../aws/errors.js';
import { APP_TAG_KEY, arns } from '../names.js';
import type { ProvisionEnv, ResourceModule } from '../types.js';
import { call, isNotFound, readOrUndefined } from './common.js';

interface BucketDesired {
  name: string;
}

interface BucketObserved {
  arn: string;
  publicAccessBlocked: boolean;
  encrypted: boolean;
  tags: Record<string, string>;
}

const PAB = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

function bucketModule(id: 'input-bucket' | 'output-bucket', pick: (env: ProvisionEnv) => string): ResourceModule<BucketDesired, BucketObserved> {
  return {
    id,
    kind: 'S3 bucket',
    dependsOn: [],
    name: pick,
    desired: (env) => ({ name: pick(env) }),

    async observe(aws, env) {
      const Bucket = pick(env);
      const s3 = await aws.s3();
      const m = await import('@aws-sdk/client-s3');
      try {
        await s3.send(new m.HeadBucketCommand({ Bucket, ExpectedBucketOwner: env.accountId }));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        if (httpStatusOf(err) === 403)
          throw new UsageError('BUCKET_TAKEN', `The S3 bucket ${Bucket} exists but is not in account ${env.accountId} (or you may not read it).`, {
            hint: 'Bucket names are global: choose another name in vidpipe.config.json (inputBucket/outputBucket), or check your permissions.',
          });
        await call('s3:ListBucket', Bucket, () => Promise.reject(err));
      }
      const [pab, enc, tagging] = await Promise.all([
        readOrUndefined('s3:GetBucketPublicAccessBlock', Bucket, () => s3.send(new m.GetPublicAccessBlockCommand({ Bucket }))),
        readOrUndefined('s3:GetEncryptionConfiguration', Bucket, () => s3.send(new m.GetBucketEncryptionCommand({ Bucket }))),
        readOrUndefined('s3:GetBucketTagging', Bucket, () => s3.send(new m.GetBucketTaggingCommand({ Bucket }))),
      ]);
      const c = pab?.PublicAccessBlockConfiguration;
      return {
        arn: arns.bucket(Bucket, env),
        publicAccessBlocked: Boolean(c?.BlockPublicAcls && c.IgnorePublicAcls && c.BlockPublicPolicy && c.RestrictPublicBuckets),
        encrypted: (enc?.ServerSideEncryptionConfiguration?.Rules ?? []).some((r) => r.ApplyServerSideEncryptionByDefault?.SSEAlgorithm),
        tags: Object.fromEntries((tagging?.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
      };
    },

    diff(_d, o, _w, env) {
      const reasons: Difference[] = [];
      if (!o.publicAccessBlocked) reasons.push(change('public access block', 'not all four settings on', 'all four on'));
      if (!o.encrypted) reasons.push(change('default encryption', 'off', 'on'));
      if (o.tags[APP_TAG_KEY] !== env.config.app) reasons.push(change(`tag ${APP_TAG_KEY}`, o.tags[APP_TAG_KEY], env.config.app));
      return reasons;
    },

    async apply(aws, d, o, _w, env) {
      const Bucket = d.name;
      const s3 = await aws.s3();
      const m = await import('@aws-sdk/client-s3');
      if (!o) {
        // us-east-1 rejects a LocationConstraint naming itself; every other region requires one.
        const configuration = env.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: env.region as never } };
        await call('s3:CreateBucket', Bucket, () => s3.send(new m.CreateBucketCommand({ Bucket, ...configuration })));
      }
      const steps: Promise<unknown>[] = [];
      if (!o?.publicAccessBlocked)
        steps.push(call('s3:PutBucketPublicAccessBlock', Bucket, () => s3.send(new m.PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: PAB }))));
      if (!o?.encrypted)
        steps.push(
          call('s3:PutEncryptionConfiguration', Bucket, () =>
            s3.send(
              new m.PutBucketEncryptionCommand({
                Bucket,
                ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
              }),
            ),
          ),
        );
      const tags = { ...(o?.tags ?? {}), [APP_TAG_KEY]: env.config.app };
      if (o?.tags[APP_TAG_KEY] !== env.config.app)
        // PutBucketTagging replaces the whole set: keep the bucket's other tags.
        steps.push(
          call('s3:PutBucketTagging', Bucket, () =>
            s3.send(new m.PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } })),
          ),
        );
      await Promise.all(steps);
      return { arn: arns.bucket(Bucket, env), publicAccessBlocked: true, encrypted: true, tags };
    },

    async destroy(aws, _o, env) {
      const Bucket = pick(env);
      const s3 = await aws.s3();
      const m = await import('@aws-sdk/client-s3');
      // A bucket must be empty of every version and delete marker before DeleteBucket; 1000 keys per DeleteObjects.
      for (;;) {
        const page = await call('s3:ListBucketVersions', Bucket, () => s3.send(new m.ListObjectVersionsCommand({ Bucket, MaxKeys: 1000 })));
        const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
        if (!objects.length) break;
        const out = await call('s3:DeleteObjectVersion', Bucket, () => s3.send(new m.DeleteObjectsCommand({ Bucket, Delete: { Objects: objects, Quiet: true } })));
        if (out.Errors?.length) throw new Error(`could not delete ${out.Errors.length} object(s) from ${Bucket}: ${out.Errors[0]?.Code} ${out.Errors[0]?.Message}`);
      }
      const uploads = await call('s3:ListBucketMultipartUploads', Bucket, () => s3.send(new m.ListMultipartUploadsCommand({ Bucket })));
      await Promise.all(
        (uploads.Uploads ?? []).map((u) =>
          call('s3:AbortMultipartUpload', Bucket, () => s3.send(new m.AbortMultipartUploadCommand({ Bucket, Key: u.Key!, UploadId: u.UploadId! }))),
        ),
      );
      await call('s3:DeleteBucket', Bucket, () => s3.send(new m.DeleteBucketCommand({ Bucket })));
    },
  };
}

export const inputBucket = bucketModule('input-bucket', (env) => env.names.inputBucket);
export const outputBucket = bucketModule('output-bucket', (env) => env.names.outputBucket);
