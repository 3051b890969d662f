/**
 * The MediaConvert fake speaks the wire format the real SDK expects: each test drives it through
 * @aws-sdk/client-mediaconvert, pointed at it by AWS_ENDPOINT_URL_MEDIACONVERT via createAwsContext.
 */
import {
  CancelJobCommand,
  CreateJobCommand,
  CreateJobTemplateCommand,
  DeleteJobTemplateCommand,
  GetJobCommand,
  GetJobTemplateCommand,
  ListJobsCommand,
  ListJobTemplatesCommand,
  UpdateJobTemplateCommand,
  type MediaConvertClient,
} from '@aws-sdk/client-mediaconvert';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsContext, type AwsContext } from '../../src/aws/context.js';
import { jobTemplates } from '../../templates/job-templates.js';
import { startMediaConvertFake, type MediaConvertFake } from '../helpers/mediaconvert-fake.js';

describe('MediaConvert fake', () => {
  let fake: MediaConvertFake;
  let aws: AwsContext;
  let mc: MediaConvertClient;
  const calls: string[] = [];

  beforeAll(async () => {
    fake = await startMediaConvertFake();
    // The SDK's default credential chain reads the process environment.
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_EC2_METADATA_DISABLED: 'true' });
    // Everything else points at a dead port: proves the per-service variable wins over the global one.
    aws = createAwsContext({
      region: 'us-east-1',
      env: { ...fake.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
      onCall: (service, command) => calls.push(`${service}:${command}`),
    });
    mc = await aws.mediaconvert();
  });
  afterAll(async () => {
    aws.destroy();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  const mp4 = jobTemplates('out-bucket').mp4;

  it('creates, reads, updates, lists and deletes a job template in the wire format', async () => {
    const created = await mc.send(
      new CreateJobTemplateCommand({ Name: 'app-mp4', Description: mp4.description, Settings: mp4.settings, Tags: { app: 'app' } }),
    );
    expect(created.JobTemplate?.Arn).toBe('arn:aws:mediaconvert:us-east-1:123456789012:jobTemplates/app-mp4');
    expect(created.JobTemplate?.CreatedAt).toBeInstanceOf(Date);
    // The body on the wire is lowerCamelCase, all the way down.
    const wire = fake.requestsOf('CreateJobTemplate')[0]!;
    expect(wire.method).toBe('POST');
    expect(wire.path).toBe('/2017-08-29/jobTemplates');
    expect(wire.body).toMatchObject({ name: 'app-mp4', tags: { app: 'app' }, settings: { outputGroups: [{ customName: 'MP4' }] } });

    const got = await mc.send(new GetJobTemplateCommand({ Name: 'app-mp4' }));
    expect(got.JobTemplate?.Settings).toEqual(mp4.settings);
    expect(got.JobTemplate?.Description).toBe(mp4.description);

    await mc.send(new UpdateJobTemplateCommand({ Name: 'app-mp4', Description: 'changed' }));
    expect(fake.requestsOf('UpdateJobTemplate')[0]).toMatchObject({ method: 'PUT', path: '/2017-08-29/jobTemplates/app-mp4' });
    const updated = await mc.send(new GetJobTemplateCommand({ Name: 'app-mp4' }));
    expect(updated.JobTemplate?.Description).toBe('changed');
    expect(updated.JobTemplate?.Settings).toEqual(mp4.settings);

    await mc.send(new CreateJobTemplateCommand({ Name: 'app-hls', Settings: mp4.settings }));
    const listed = await mc.send(new ListJobTemplatesCommand({ ListBy: 'NAME' }));
    expect(listed.JobTemplates?.map((t) => t.Name)).toEqual(['app-hls', 'app-mp4']);

    await mc.send(new DeleteJobTemplateCommand({ Name: 'app-mp4' }));
    expect(fake.jobTemplateNames()).toEqual(['app-hls']);
    expect(calls).toContain('mediaconvert:CreateJobTemplateCommand');
  });

  it('answers errors the SDK maps to its exception classes', async () => {
    await expect(mc.send(new GetJobTemplateCommand({ Name: 'nope' }))).rejects.toMatchObject({
      name: 'NotFoundException',
      message: expect.stringContaining('nope'),
      $metadata: { httpStatusCode: 404 },
    });
    await mc.send(new CreateJobTemplateCommand({ Name: 'dup', Settings: mp4.settings }));
    await expect(mc.send(new CreateJobTemplateCommand({ Name: 'dup', Settings: mp4.settings }))).rejects.toMatchObject({
      name: 'ConflictException',
    });
    fake.failNext('GetJobTemplate', { status: 403, type: 'ForbiddenException', message: 'not allowed' });
    await expect(mc.send(new GetJobTemplateCommand({ Name: 'dup' }))).rejects.toMatchObject({ name: 'ForbiddenException' });
    // Injected once only.
    await expect(mc.send(new GetJobTemplateCommand({ Name: 'dup' }))).resolves.toBeTruthy();
  });

  it('creates jobs with MediaConvert-like ids, honours ClientRequestToken, and lets tests move their status', async () => {
    await mc.send(new CreateJobTemplateCommand({ Name: 'app-mp4', Settings: mp4.settings }));
    const request = {
      Role: 'arn:aws:iam::123456789012:role/app-mediaconvert',
      JobTemplate: 'app-mp4',
      Settings: { Inputs: [{ FileInput: 's3://in/video.mp4' }] },
      UserMetadata: { postId: '42' },
      ClientRequestToken: 'token-1',
    };
    const first = await mc.send(new CreateJobCommand(request));
    expect(first.Job?.Id).toMatch(/^\d{13}-[a-z0-9]{6}$/);
    expect(first.Job?.Status).toBe('SUBMITTED');
    expect(first.Job?.Queue).toBe('arn:aws:mediaconvert:us-east-1:123456789012:queues/Default');
    const again = await mc.send(new CreateJobCommand(request));
    expect(again.Job?.Id).toBe(first.Job?.Id);
    expect(fake.jobs()).toHaveLength(1);
    expect(fake.requestsOf('CreateJob')[0]?.body).toMatchObject({ role: request.Role, userMetadata: { postId: '42' }, clientRequestToken: 'token-1' });

    const other = await mc.send(new CreateJobCommand({ ...request, ClientRequestToken: 'token-2' }));
    expect(other.Job?.Id).not.toBe(first.Job?.Id);

    fake.setJobStatus(first.Job!.Id!, 'ERROR', { errorCode: 1040, errorMessage: 'File access error' });
    const got = await mc.send(new GetJobCommand({ Id: first.Job!.Id! }));
    expect(got.Job).toMatchObject({ Status: 'ERROR', ErrorCode: 1040, ErrorMessage: 'File access error', UserMetadata: { postId: '42' } });
    expect(got.Job?.Timing?.FinishTime).toBeInstanceOf(Date);

    const complete = await mc.send(new ListJobsCommand({ Status: 'SUBMITTED' }));
    expect(complete.Jobs?.map((j) => j.Id)).toEqual([other.Job?.Id]);
    await mc.send(new CancelJobCommand({ Id: other.Job!.Id! }));
    expect(fake.job(other.Job!.Id!)?.status).toBe('CANCELED');

    await expect(mc.send(new CreateJobCommand({ ...request, JobTemplate: 'missing', ClientRequestToken: 'x' }))).rejects.toMatchObject({
      name: 'NotFoundException',
    });
    await expect(mc.send(new CreateJobCommand({ Role: '', Settings: {} }))).rejects.toMatchObject({ name: 'BadRequestException' });
  });

  it('pages lists with nextToken', async () => {
    for (let i = 0; i < 25; i++) await mc.send(new CreateJobTemplateCommand({ Name: `t-${String(i).padStart(2, '0')}`, Settings: mp4.settings }));
    const first = await mc.send(new ListJobTemplatesCommand({ MaxResults: 20 }));
    expect(first.JobTemplates).toHaveLength(20);
    const second = await mc.send(new ListJobTemplatesCommand({ MaxResults: 20, NextToken: first.NextToken }));
    expect(second.JobTemplates).toHaveLength(5);
    expect(second.NextToken).toBeUndefined();
  });
});
