/**
 * One MediaConvert job template per entry of templates/job-templates.ts, named `<app>-<template>`; those the config
 * does not list are removed. A changed template is updated in place (UpdateJobTemplate), so jobs keep naming it.
 * Its app tag is checked too (ListTagsForResource): a template untagged or retagged behind vidpipe's back is drift,
 * repaired with TagResource.
 */
import { change, type Difference } from '../diff.js';
import type { JobTemplateSettings } from '@aws-sdk/client-mediaconvert';
import { JOB_TEMPLATE_NAMES, jobTemplateResourceName, jobTemplates, type JobTemplateName } from '../../../templates/job-templates.js';
import { containsJson } from '../documents.js';
import type { ResourceModule } from '../types.js';
import { appTagMap, call, deleteIfExists, readOrUndefined } from './common.js';

interface TemplateDesired {
  name: string;
  description: string;
  settings: JobTemplateSettings;
  tags: Record<string, string>;
}

interface TemplateObserved {
  arn: string;
  description?: string;
  settings?: JobTemplateSettings;
  tags: Record<string, string>;
}

/** The desired tags missing or different on the resource (other tags are the user's and stay). */
function tagsToSet(d: TemplateDesired, o: TemplateObserved): Record<string, string> {
  return Object.fromEntries(Object.entries(d.tags).filter(([k, v]) => o.tags[k] !== v));
}

/** Installed templates write under this prefix; a job started by vidpipe overrides it per upload. */
const INSTALLED_PREFIX = 'default';

function jobTemplateModule(template: JobTemplateName): ResourceModule<TemplateDesired, TemplateObserved> {
  return {
    id: `job-template:${template}`,
    kind: 'MediaConvert job template',
    dependsOn: ['output-bucket'],
    name: (env) => jobTemplateResourceName(env.config.app, template),
    desired(env) {
      if (!env.config.templates.includes(template)) return undefined;
      const def = jobTemplates(env.names.outputBucket, INSTALLED_PREFIX)[template];
      return { name: jobTemplateResourceName(env.config.app, template), description: def.description, settings: def.settings, tags: appTagMap(env) };
    },

    async observe(aws, env) {
      const Name = jobTemplateResourceName(env.config.app, template);
      const mc = await aws.mediaconvert();
      const m = await import('@aws-sdk/client-mediaconvert');
      const out = await readOrUndefined('mediaconvert:GetJobTemplate', Name, () => mc.send(new m.GetJobTemplateCommand({ Name })));
      const t = out?.JobTemplate;
      if (!t?.Arn) return undefined;
      const Arn = t.Arn;
      const tags = await readOrUndefined('mediaconvert:ListTagsForResource', Name, () => mc.send(new m.ListTagsForResourceCommand({ Arn })));
      return { arn: Arn, description: t.Description, settings: t.Settings, tags: tags?.ResourceTags?.Tags ?? {} };
    },

    diff(d, o) {
      const reasons: Difference[] = [];
      // MediaConvert returns settings with its defaults filled in: compare only what vidpipe sets.
      if (!containsJson(o.settings, d.settings)) reasons.push('settings differ');
      if (o.description !== d.description) reasons.push(change('Description', o.description, d.description));
      for (const [k, v] of Object.entries(tagsToSet(d, o))) reasons.push(change(`tag ${k}`, o.tags[k], v));
      return reasons;
    },

    async apply(aws, d, o, _w, env) {
      const mc = await aws.mediaconvert();
      const m = await import('@aws-sdk/client-mediaconvert');
      const input = { Name: d.name, Description: d.description, Settings: d.settings };
      if (!o) {
        const out = await call('mediaconvert:CreateJobTemplate', d.name, () => mc.send(new m.CreateJobTemplateCommand({ ...input, Tags: appTagMap(env) })));
        return { arn: out.JobTemplate!.Arn!, description: d.description, settings: d.settings, tags: d.tags };
      }
      // Only what differs is written: a retag alone makes no UpdateJobTemplate.
      if (!containsJson(o.settings, d.settings) || o.description !== d.description)
        await call('mediaconvert:UpdateJobTemplate', d.name, () => mc.send(new m.UpdateJobTemplateCommand(input)));
      const missing = tagsToSet(d, o);
      if (Object.keys(missing).length)
        await call('mediaconvert:TagResource', d.name, () => mc.send(new m.TagResourceCommand({ Arn: o.arn, Tags: missing })));
      return { arn: o.arn, description: d.description, settings: d.settings, tags: { ...o.tags, ...missing } };
    },

    async destroy(aws, _o, env) {
      const Name = jobTemplateResourceName(env.config.app, template);
      const mc = await aws.mediaconvert();
      const m = await import('@aws-sdk/client-mediaconvert');
      await deleteIfExists('mediaconvert:DeleteJobTemplate', Name, () => mc.send(new m.DeleteJobTemplateCommand({ Name })));
    },
  };
}

export const jobTemplateResources = JOB_TEMPLATE_NAMES.map(jobTemplateModule);
