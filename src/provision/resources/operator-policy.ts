/**
 * The operator's managed policy (`vidpipe policy` prints the same document): created for the user to attach to
 * whoever runs vidpipe day to day. Updated by a new default version; teardown detaches it from every user, group
 * and role first, as DeletePolicy requires.
 */
import { jsonChanges } from '../diff.js';
import { operatorPolicy, parsePolicyDocument, type PolicyDocument } from '../documents.js';
import { sameJson } from '../../util/canonical-json.js';
import { arns } from '../names.js';
import type { ResourceModule } from '../types.js';
import { appTags, call, deleteIfExists, readOrUndefined } from './common.js';

interface PolicyDesired {
  name: string;
  document: PolicyDocument;
}

interface PolicyObserved {
  arn: string;
  document: unknown;
  attachments: number;
}

/** IAM keeps at most 5 versions of a managed policy. */
const MAX_VERSIONS = 5;

export const operatorPolicyResource: ResourceModule<PolicyDesired, PolicyObserved> = {
  id: 'operator-policy',
  kind: 'IAM managed policy',
  dependsOn: ['job-role'],
  name: (env) => env.names.operatorPolicy,
  desired: (env) => ({ name: env.names.operatorPolicy, document: operatorPolicy(env.config, env) }),

  async observe(aws, env) {
    const PolicyArn = arns.policy(env, env.names.operatorPolicy);
    const iam = await aws.iam();
    const m = await import('@aws-sdk/client-iam');
    const policy = await readOrUndefined('iam:GetPolicy', PolicyArn, () => iam.send(new m.GetPolicyCommand({ PolicyArn })));
    if (!policy?.Policy) return undefined;
    const version = await call('iam:GetPolicyVersion', PolicyArn, () =>
      iam.send(new m.GetPolicyVersionCommand({ PolicyArn, VersionId: policy.Policy!.DefaultVersionId! })),
    );
    return { arn: PolicyArn, document: parsePolicyDocument(version.PolicyVersion?.Document), attachments: policy.Policy.AttachmentCount ?? 0 };
  },

  diff: (d, o) => (sameJson(o.document, d.document) ? [] : jsonChanges('PolicyDocument', o.document, d.document)),

  async apply(aws, d, o, _w, env) {
    const iam = await aws.iam();
    const m = await import('@aws-sdk/client-iam');
    const PolicyDocument = JSON.stringify(d.document);
    if (!o) {
      const out = await call('iam:CreatePolicy', d.name, () =>
        iam.send(
          new m.CreatePolicyCommand({
            PolicyName: d.name,
            PolicyDocument,
            Description: `vidpipe (${env.config.app}): least privilege to upload and run jobs; attach it to operators`,
            Tags: appTags(env),
          }),
        ),
      );
      return { arn: out.Policy!.Arn!, document: d.document, attachments: 0 };
    }
    const PolicyArn = o.arn;
    const versions = await call('iam:ListPolicyVersions', PolicyArn, () => iam.send(new m.ListPolicyVersionsCommand({ PolicyArn })));
    const old = (versions.Versions ?? []).filter((v) => !v.IsDefaultVersion).sort((a, b) => Number(a.CreateDate ?? 0) - Number(b.CreateDate ?? 0));
    if ((versions.Versions ?? []).length >= MAX_VERSIONS && old[0])
      await call('iam:DeletePolicyVersion', PolicyArn, () => iam.send(new m.DeletePolicyVersionCommand({ PolicyArn, VersionId: old[0]!.VersionId! })));
    await call('iam:CreatePolicyVersion', PolicyArn, () => iam.send(new m.CreatePolicyVersionCommand({ PolicyArn, PolicyDocument, SetAsDefault: true })));
    return { ...o, document: d.document };
  },

  async destroy(aws, o) {
    const iam = await aws.iam();
    const m = await import('@aws-sdk/client-iam');
    const PolicyArn = o.arn;
    const entities = await call('iam:ListEntitiesForPolicy', PolicyArn, () => iam.send(new m.ListEntitiesForPolicyCommand({ PolicyArn })));
    await Promise.all([
      ...(entities.PolicyUsers ?? []).map((u) => call('iam:DetachUserPolicy', PolicyArn, () => iam.send(new m.DetachUserPolicyCommand({ PolicyArn, UserName: u.UserName! })))),
      ...(entities.PolicyGroups ?? []).map((g) =>
        call('iam:DetachGroupPolicy', PolicyArn, () => iam.send(new m.DetachGroupPolicyCommand({ PolicyArn, GroupName: g.GroupName! }))),
      ),
      ...(entities.PolicyRoles ?? []).map((r) => call('iam:DetachRolePolicy', PolicyArn, () => iam.send(new m.DetachRolePolicyCommand({ PolicyArn, RoleName: r.RoleName! })))),
    ]);
    const versions = await call('iam:ListPolicyVersions', PolicyArn, () => iam.send(new m.ListPolicyVersionsCommand({ PolicyArn })));
    for (const v of versions.Versions ?? [])
      if (!v.IsDefaultVersion)
        await call('iam:DeletePolicyVersion', PolicyArn, () => iam.send(new m.DeletePolicyVersionCommand({ PolicyArn, VersionId: v.VersionId! })));
    await deleteIfExists('iam:DeletePolicy', PolicyArn, () => iam.send(new m.DeletePolicyCommand({ PolicyArn })));
  },

  details: (o) => ({ attached: o.attachments }),
};
