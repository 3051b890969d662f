/**
 * One MediaConvert job template per entry of templates/job-templates.ts, named `<app>-<template>`; those the config
 * does not list are removed. A changed template is updated in place (UpdateJobTemplate), so jobs keep naming it.
 */
import type { JobTemplateSettings } from '@aws-sdk/client-mediaconvert';
import { JOB_TEMPLATE_NAMES, jobTemplateResourceName, jobTemplates, type JobTemplateName } from '../../../templates/job-templates.js';
import { containsJson } from '../documents.js';
import type { ResourceModule } from '../types.js';
import { appTagMap, call, deleteIfExists, readOrUndefined } from './common.js';

interface TemplateDesired {
  name: string;
  description: string;
  settings: JobTemplateSettings;
}

interface TemplateObserved {
  arn: string;
  description?: string;
  settings?: JobTemplateSettings;
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
      return { name: jobTemplateResourceName(env.config.app, template), description: def.description, settings: def.settings };
    },

    async observe(aws, env) {
      const Name = jobTemplateResourceName(env.config.app, template);
      const mc = await aws.mediaconvert();
      const m = await import('@aws-sdk/client-mediaconvert');
      const out = await readOrUndefined('mediaconvert:GetJobTemplate', Name, () => mc.send(new m.GetJobTemplateCommand({ Name })));
      const t = out?.JobTemplate;
      return t ? { arn: t.Arn!, description: t.Description, settings: t.Settings } : undefined;
    },

    diff(d, o) {
      const reasons: string[] = [];
      // MediaConvert returns settings with its defaults filled in: compare only what vidpipe sets.
      if (!containsJson(o.settings, d.settings)) reasons.push('settings differ');
      if (o.description !== d.description) reasons.push('description differs');
      return reasons;
    },

    async apply(aws, d, o, _w, env) {
      const mc = await aws.mediaconvert();
      const m = await import('@aws-sdk/client-mediaconvert');
      const input = { Name: d.name, Description: d.description, Settings: d.settings };
      const out = o
        ? await call('mediaconvert:UpdateJobTemplate', d.name, () => mc.send(new m.UpdateJobTemplateCommand(input)))
        : await call('mediaconvert:CreateJobTemplate', d.name, () => mc.send(new m.CreateJobTemplateCommand({ ...input, Tags: appTagMap(env) })));
      return { arn: out.JobTemplate!.Arn!, description: d.description, settings: d.settings };
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
