/**
 * The part of MediaConvert's REST API (version 2017-08-29) that vidpipe calls, served by `vidpipe local` so the
 * Lambda handler and `upload --start-job` run unchanged against it through AWS_ENDPOINT_URL_MEDIACONVERT. Wire format
 * as @aws-sdk/client-mediaconvert expects it (the same as test/helpers/mediaconvert-fake.ts models): REST-JSON with
 * lowerCamelCase names, timestamps in epoch seconds, errors as an `x-amzn-ErrorType` header plus {"message"}.
 *
 *   POST   /2017-08-29/jobs                 CreateJob       201 {job}; the same clientRequestToken returns the first job
 *   GET    /2017-08-29/jobs/{id}            GetJob          200 {job}
 *   GET    /2017-08-29/jobs                 ListJobs        200 {jobs, nextToken}; maxResults ≤ 20, order, status
 *   DELETE /2017-08-29/jobs/{id}            CancelJob       202 {}; stops ffmpeg
 *   GET    /2017-08-29/jobTemplates/{name}  GetJobTemplate  200 {jobTemplate}: vidpipe's templates (<app>-mp4 …)
 *
 * Plus, for a browser or a player: GET /files/<bucket>/<key> serves stored objects when storage is a directory.
 * Signatures are not checked. Anything else answers 404 NotFoundException naming the route.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { JOB_TEMPLATE_NAMES, jobTemplates, type JobTemplateName } from '../../templates/job-templates.js';
import { UsageError } from '../errors.js';
import { JobList, wireJob, type LocalJob } from './jobs.js';
import { badRequest, newJobId, notFound, pageOf, RestError, sendJson } from './rest-wire.js';
import { parseJobSettings, PlanError } from './plan.js';
import type { Runner } from './runner.js';
import { contentTypeOf, type Storage } from './storage.js';

/** PascalCase SDK shapes (templates/job-templates.ts) → wire lowerCamelCase; map keys ("Audio Selector 1") stay. */
const MAP_MEMBERS = new Set(['AudioSelectors', 'CaptionSelectors', 'AudioSelectorGroups', 'DynamicAudioSelectors']);
export function toWire(value: unknown, isMap = false): unknown {
  if (Array.isArray(value)) return value.map((v) => toWire(v));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = isMap ? k : k.charAt(0).toLowerCase() + k.slice(1);
    out[key] = isMap ? toWire(v) : toWire(v, MAP_MEMBERS.has(k));
  }
  return out;
}

export interface ApiOptions {
  jobs: JobList;
  runner: Runner;
  storage: Storage;
  app: string;
  outputBucket: string;
  account: string;
  region: string;
  host: string;
  port: number;
}

export interface RunningApi {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/** "<app>-hls", a bare "hls", or the template's ARN → the vidpipe template it names. */
function templateName(name: string): JobTemplateName | undefined {
  const bare = name.replace(/^arn:aws:mediaconvert:[^:]*:[^:]*:jobTemplates\//, '');
  return JOB_TEMPLATE_NAMES.find((t) => bare === t || bare.endsWith(`-${t}`));
}

export async function startApi(o: ApiOptions): Promise<RunningApi> {
  const queueArn = `arn:aws:mediaconvert:${o.region}:${o.account}:queues/Default`;

  function templateWire(name: string) {
    const t = templateName(name);
    if (!t) throw notFound(`The specified job template ${name} was not found. vidpipe local serves vidpipe's templates: ${JOB_TEMPLATE_NAMES.map((n) => `${o.app}-${n}`).join(', ')}.`);
    const def = jobTemplates(o.outputBucket)[t];
    const now = Math.floor(Date.now() / 1000);
    return {
      name,
      arn: `arn:aws:mediaconvert:${o.region}:${o.account}:jobTemplates/${name}`,
      description: def.description,
      type: 'CUSTOM',
      settings: toWire(def.settings),
      priority: 0,
      statusUpdateInterval: 'SECONDS_60',
      createdAt: now,
      lastUpdated: now,
    };
  }

  function handle(method: string, path: string, body: Record<string, any>, query: URLSearchParams): [number, unknown] {
    const m = /^\/2017-08-29\/(jobTemplates|jobs)(?:\/([^/]+))?\/?$/.exec(path);
    if (!m) throw notFound(`vidpipe local does not implement ${method} ${path}.`);
    const [, collection, raw] = m;
    const param = raw === undefined ? undefined : decodeURIComponent(raw);
    if (collection === 'jobTemplates') {
      if (method === 'GET' && param) return [200, { jobTemplate: templateWire(param) }];
      throw notFound(`vidpipe local does not implement ${method} ${path} (it serves GetJobTemplate only; its templates are vidpipe's own).`);
    }
    if (method === 'POST' && !param) return createJob(body);
    if (method === 'GET' && param) {
      const job = o.jobs.get(param);
      if (!job) throw notFound(`The specified job ${param} was not found.`);
      return [200, { job: wireJob(job) }];
    }
    if (method === 'GET' && !param) return listJobs(query);
    if (method === 'DELETE' && param) {
      const job = o.jobs.get(param);
      if (!job) throw notFound(`The specified job ${param} was not found.`);
      if (job.status !== 'SUBMITTED' && job.status !== 'PROGRESSING') throw badRequest(`Job ${param} is ${job.status} and cannot be canceled.`);
      o.runner.cancel(param);
      return [202, {}];
    }
    throw notFound(`vidpipe local does not implement ${method} ${path}.`);
  }

  function createJob(body: Record<string, any>): [number, unknown] {
    if (typeof body.role !== 'string' || body.role === '') throw badRequest('role is required');
    const token = typeof body.clientRequestToken === 'string' && body.clientRequestToken ? body.clientRequestToken : undefined;
    const existing = token ? o.jobs.byToken(token) : undefined;
    if (existing) return [201, { job: wireJob(existing) }];
    let settings = body.settings as Record<string, any> | undefined;
    if (typeof body.jobTemplate === 'string') {
      const template = templateWire(body.jobTemplate);
      // Settings sent with the job replace the template's output groups; inputs always come with the job.
      settings = { ...(template.settings as Record<string, any>), ...(settings ?? {}) };
    }
    try {
      parseJobSettings(settings);
    } catch (err) {
      if (err instanceof PlanError) throw badRequest(err.message);
      throw err;
    }
    const now = Date.now();
    const id = newJobId(now);
    const seconds = Math.floor(now / 1000);
    const job: LocalJob = {
      id,
      arn: `arn:aws:mediaconvert:${o.region}:${o.account}:jobs/${id}`,
      status: 'SUBMITTED',
      createdAt: seconds,
      role: body.role,
      settings: settings!,
      ...(typeof body.jobTemplate === 'string' ? { jobTemplate: body.jobTemplate } : {}),
      queue: typeof body.queue === 'string' ? body.queue : queueArn,
      priority: typeof body.priority === 'number' ? body.priority : 0,
      userMetadata: body.userMetadata && typeof body.userMetadata === 'object' ? (body.userMetadata as Record<string, string>) : {},
      ...(token ? { clientRequestToken: token } : {}),
      statusUpdateInterval: typeof body.statusUpdateInterval === 'string' ? body.statusUpdateInterval : 'SECONDS_60',
      timing: { submitTime: seconds },
    };
    o.jobs.add(job);
    o.runner.submit(job);
    return [201, { job: wireJob(job) }];
  }

  function listJobs(query: URLSearchParams): [number, unknown] {
    let all = o.jobs.all();
    if (query.get('order') !== 'ASCENDING') all = all.reverse();
    const status = query.get('status');
    if (status) all = all.filter((j) => j.status === status);
    const { items, nextToken } = pageOf(all, query.get('maxResults'), query.get('nextToken'));
    return [200, { jobs: items.map(wireJob), ...(nextToken ? { nextToken } : {}) }];
  }

  async function serveFile(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const m = /^\/files\/([^/]+)\/(.+)$/.exec(pathname);
    if (!m || !o.storage.pathOf) throw notFound('GET /files/<bucket>/<key> serves stored objects when the storage is a directory.');
    let file: string;
    try {
      file = o.storage.pathOf(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!));
    } catch {
      throw badRequest('bad object key');
    }
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw notFound(`No object ${m[1]}/${m[2]}.`);
    // A player on another origin (hls.js on a dev server) may fetch these.
    res.writeHead(200, { 'content-type': contentTypeOf(file), 'content-length': info.size, 'access-control-allow-origin': '*', 'cache-control': 'no-cache' });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      // A job's settings are tens of KiB; refuse anything absurd rather than buffer it.
      if (size > 4 * 1024 * 1024) return sendJson(res, 413, { message: 'Request body too large.' }, 'BadRequestException');
      chunks.push(chunk as Buffer);
    }
    try {
      if ((req.method === 'GET' || req.method === 'HEAD') && url.pathname.startsWith('/files/')) return await serveFile(req, res, url.pathname);
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, any> = {};
      if (raw) {
        try {
          body = JSON.parse(raw);
        } catch {
          throw badRequest('The request body is not valid JSON.');
        }
      }
      const [status, out] = handle(req.method ?? 'GET', url.pathname, body, url.searchParams);
      sendJson(res, status, out);
    } catch (err) {
      if (err instanceof RestError) return sendJson(res, err.status, { message: err.message }, err.type);
      sendJson(res, 500, { message: (err as Error).message }, 'InternalServerErrorException');
    }
  }

  const server: Server = createServer((req, res) => {
    onRequest(req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { message: String(err) }, 'InternalServerErrorException');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE')
        reject(new UsageError('PORT_IN_USE', `Port ${o.port} on ${o.host} (the local MediaConvert API) is already in use.`, { hint: 'Stop the other process or pass --mediaconvert-port N (0 picks a free port).' }));
      else reject(err);
    });
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as { port: number };
  const host = o.host.includes(':') ? `[${o.host}]` : o.host === '0.0.0.0' ? '127.0.0.1' : o.host;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
