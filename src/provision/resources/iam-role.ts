/**
 * An IAM role with a trust policy and one inline policy: the shape of every role vidpipe makes (the MediaConvert job
 * role, the EventBridge invoke role, and the Lambda's execution role). A role's inline policy is named "vidpipe".
 */
import { jsonChanges, type Difference } from '../diff.js';
import { parsePolicyDocument, type PolicyDocument } from '../documents.js';
import { sameJson } from '../../util/canonical-json.js';
import type { ProvisionEnv, ResourceModule, World } from '../types.js';
import { appTags, call, deleteIfExists, readOrUndefined } from './common.js';

export const INLINE_POLICY_NAME = 'vidpipe';

export interface RoleDesired {
  name: string;
  description: string;
}

export interface RoleObserved {
  arn: string;
  trust: unknown;
  access: unknown;
}

export interface RoleSpec {
  id: string;
  dependsOn: readonly string[];
  name(env: ProvisionEnv): string;
  description: string;
  wanted?(env: ProvisionEnv): boolean;
  trust(env: ProvisionEnv): PolicyDocument;
  /** The inline policy; undefined while an ARN it names does not exist yet (it is written once it does). */
  access(env: ProvisionEnv, world: World): PolicyDocument | undefined;
  /** Why access() is undefined, for the plan. */
  waitingFor?: string;
}

export function roleModule(spec: RoleSpec): ResourceModule<RoleDesired, RoleObserved> {
  return {
    id: spec.id,
    kind: 'IAM role',
    dependsOn: spec.dependsOn,
    name: spec.name,
    desired: (env) => (spec.wanted && !spec.wanted(env) ? undefined : { name: spec.name(env), description: spec.description }),

    async observe(aws, env) {
      const RoleName = spec.name(env);
      const iam = await aws.iam();
      const m = await import('@aws-sdk/client-iam');
      const role = await readOrUndefined('iam:GetRole', RoleName, () => iam.send(new m.GetRoleCommand({ RoleName })));
      if (!role?.Role) return undefined;
      const inline = await readOrUndefined('iam:GetRolePolicy', RoleName, () =>
        iam.send(new m.GetRolePolicyCommand({ RoleName, PolicyName: INLINE_POLICY_NAME })),
      );
      return {
        arn: role.Role.Arn!,
        trust: parsePolicyDocument(role.Role.AssumeRolePolicyDocument),
        access: parsePolicyDocument(inline?.PolicyDocument),
      };
    },

    diff(_d, o, world, env) {
      const reasons: Difference[] = [];
      if (!sameJson(o.trust, spec.trust(env))) reasons.push(...jsonChanges('trust policy', o.trust, spec.trust(env)));
      const access = spec.access(env, world);
      if (!access) reasons.push(`permissions wait for ${spec.waitingFor ?? 'a resource'}`);
      else if (!sameJson(o.access, access)) reasons.push(...(o.access ? jsonChanges('permissions', o.access, access) : ['permissions missing']));
      return reasons;
    },

    async apply(aws, d, o, world, env) {
      const RoleName = d.name;
      const iam = await aws.iam();
      const m = await import('@aws-sdk/client-iam');
      const trust = spec.trust(env);
      let arn = o?.arn;
      if (!o) {
        const created = await call('iam:CreateRole', RoleName, () =>
          iam.send(new m.CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: JSON.stringify(trust), Description: d.description, Tags: appTags(env) })),
        );
        arn = created.Role!.Arn!;
      } else if (!sameJson(o.trust, trust)) {
        await call('iam:UpdateAssumeRolePolicy', RoleName, () =>
          iam.send(new m.UpdateAssumeRolePolicyCommand({ RoleName, PolicyDocument: JSON.stringify(trust) })),
        );
      }
      const access = spec.access(env, world);
      if (access && (!o || !sameJson(o.access, access)))
        await call('iam:PutRolePolicy', RoleName, () =>
          iam.send(new m.PutRolePolicyCommand({ RoleName, PolicyName: INLINE_POLICY_NAME, PolicyDocument: JSON.stringify(access) })),
        );
      return { arn: arn!, trust, access };
    },

    async destroy(aws, _o, env) {
      const RoleName = spec.name(env);
      const iam = await aws.iam();
      const m = await import('@aws-sdk/client-iam');
      // DeleteRole fails while policies are attached or inline: remove them first.
      const [inline, attached] = await Promise.all([
        call('iam:ListRolePolicies', RoleName, () => iam.send(new m.ListRolePoliciesCommand({ RoleName }))),
        call('iam:ListAttachedRolePolicies', RoleName, () => iam.send(new m.ListAttachedRolePoliciesCommand({ RoleName }))),
      ]);
      await Promise.all([
        ...(attached.AttachedPolicies ?? []).map((p) =>
          call('iam:DetachRolePolicy', RoleName, () => iam.send(new m.DetachRolePolicyCommand({ RoleName, PolicyArn: p.PolicyArn! }))),
        ),
        ...(inline.PolicyNames ?? []).map((PolicyName) =>
          call('iam:DeleteRolePolicy', RoleName, () => iam.send(new m.DeleteRolePolicyCommand({ RoleName, PolicyName }))),
        ),
      ]);
      await deleteIfExists('iam:DeleteRole', RoleName, () => iam.send(new m.DeleteRoleCommand({ RoleName })));
    },
  };
}
