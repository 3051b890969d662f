/**
 * A small fake of AWS Elemental MediaConvert's REST API, because no emulator (moto included) implements it.
 * A real HTTP server on 127.0.0.1 (free port) speaking the wire format the SDK (@aws-sdk/client-mediaconvert) uses:
 * REST-JSON, lowerCamelCase field names, timestamps as epoch seconds, errors as an `x-amzn-ErrorType` header plus
 * `{"message": "..."}`. Request signatures are not checked.
 *
 * What it models (paths from the SDK's serializers, API version 2017-08-29):
 *   POST   /2017-08-29/jobTemplates         CreateJobTemplate  201 {jobTemplate}; name taken → 409 ConflictException
 *   GET    /2017-08-29/jobTemplates/{name}  GetJobTemplate     200 {jobTemplate}; unknown → 404 NotFoundException
 *   PUT    /2017-08-29/jobTemplates/{name}  UpdateJobTemplate  200 {jobTemplate}; only the fields sent change
 *   DELETE /2017-08-29/jobTemplates/{name}  DeleteJobTemplate  202 {}
 *   GET    /2017-08-29/jobTemplates         ListJobTemplates   200 {jobTemplates, nextToken}; maxResults, nextToken, order
 *   POST   /2017-08-29/jobs                 CreateJob          201 {job}; status SUBMITTED; id `<epoch ms>-<6 chars>`;
 *                                                              the same clientRequestToken within one minute of the
 *                                                              first request returns the first job; later, a new job
 *   GET    /2017-08-29/jobs/{id}            GetJob             200 {job}
 *   DELETE /2017-08-29/jobs/{id}            CancelJob          202 {}; status CANCELED
 *   GET    /2017-08-29/jobs                 ListJobs           200 {jobs, nextToken}; maxResults, nextToken, order, status, queue
 *   GET    /2017-08-29/tags/{arn}           ListTagsForResource 200 {resourceTags: {arn, tags}}; unknown arn → 404
 *   POST   /2017-08-29/tags                 TagResource        200 {}; {arn, tags} merged into the resource's tags
 *   PUT    /2017-08-29/tags/{arn}           UntagResource      200 {}; {tagKeys} removed
 * Job templates keep the tags they were created with (CreateJobTemplate's `tags`), as MediaConvert does.
 * Validation is shallow: a missing name/settings/role is a 400 BadRequestException, a job naming an unknown template a
 * 404 NotFoundException. Settings are stored and echoed as sent: nothing is transcoded, no event is emitted.
 * Anything else answers 404 NotFoundException naming the route, so an unmodelled call fails loudly.
 *
 * ClientRequestToken: MediaConvert honours a token for one minute only ("If you reuse a client request token within one
 * minute of a successful request, the API returns the job details of the original request instead", CreateJob in the
 * MediaConvert API reference, docs.aws.amazon.com/mediaconvert/latest/apireference/jobs.html). The fake models that
 * window (TOKEN_WINDOW_MS) on an injectable clock: `startMediaConvertFake({ now: () => clock })`, so a test can deliver
 * the same request at 0 s, 70 s and 190 s without waiting.
 *
 * For tests: `requests` (every request received, body parsed), `setJobStatus(id, status, extra)` (extra wire fields,
 * e.g. { errorCode: 1040, errorMessage: '…' } or { outputGroupDetails: [...] }), `failNext(operation, error)` to
 * inject one error, `reset()`, `close()`.
 *
 *   const mc = await startMediaConvertFake();
 *   process.env.AWS_ENDPOINT_URL_MEDIACONVERT = mc.endpoint;   // or: { ...moto.env, ...mc.env } for a child
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { badRequest, newJobId, notFound, pageOf, RestError, sendJson } from '../../src/local/rest-wire.js';

export type MediaConvertOperation =
  | 'CreateJobTemplate'
  | 'GetJobTemplate'
  | 'UpdateJobTemplate'
  | 'DeleteJobTemplate'
  | 'ListJobTemplates'
  | 'CreateJob'
  | 'GetJob'
  | 'CancelJob'
  | 'ListJobs'
  | 'ListTagsForResource'
  | 'TagResource'
  | 'UntagResource';

export type JobStatus = 'SUBMITTED' | 'PROGRESSING' | 'COMPLETE' | 'CANCELED' | 'ERROR';

/** Wire-format (lowerCamelCase) objects, as MediaConvert sends and receives them. */
export type WireObject = Record<string, unknown>;

export interface RecordedRequest {
  operation: MediaConvertOperation | 'Unknown';
  method: string;
  path: string;
  query: Record<string, string>;
  /** The parsed JSON body (wire format), or undefined when there was none. */
  body: WireObject | undefined;
  headers: Record<string, string | string[] | undefined>;
}

export interface InjectedError {
  /** HTTP status, e.g. 429, 500, 403. */
  status: number;
  /** The x-amzn-ErrorType, e.g. "TooManyRequestsException", "ForbiddenException". */
  type: string;
  message?: string;
}

export interface MediaConvertFake {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** Environment that points the SDK (and a child vidpipe) at the fake. */
  env: { AWS_ENDPOINT_URL_MEDIACONVERT: string };
  region: string;
  accountId: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Requests of one operation. */
  requestsOf(operation: MediaConvertOperation): RecordedRequest[];
  /** Stored job templates by name (wire format). */
  jobTemplate(name: string): WireObject | undefined;
  jobTemplateNames(): string[];
  /** Stored jobs (wire format), oldest first. */
  jobs(): WireObject[];
  job(id: string): WireObject | undefined;
  /** Moves a job to a status; `extra` wire fields are merged into the job (errorCode, errorMessage, outputGroupDetails …). */
  setJobStatus(id: string, status: JobStatus, extra?: WireObject): WireObject;
  /** The next request of `operation` fails with this error (once). */
  failNext(operation: MediaConvertOperation, error: InjectedError): void;
  /** Forgets templates, jobs, requests and injected errors. */
  reset(): void;
  close(): Promise<void>;
}

const page = <T>(items: T[], query: Record<string, string>) => pageOf(items, query.maxResults, query.nextToken);

function isObject(v: unknown): v is WireObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** How long MediaConvert answers a reused ClientRequestToken with the first job (see the header comment). */
export const TOKEN_WINDOW_MS = 60_000;

export interface MediaConvertFakeOptions {
  region?: string;
  accountId?: string;
  /** The clock (epoch ms) for job ids, timestamps and the token window; default Date.now. */
  now?: () => number;
}

export async function startMediaConvertFake(options: MediaConvertFakeOptions = {}): Promise<MediaConvertFake> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const now = options.now ?? Date.now;
  const epochSeconds = () => Math.floor(now() / 1000);
  const templates = new Map<string, WireObject>();
  const jobs = new Map<string, WireObject>();
  /** token → the job it created and when (epoch ms). */
  const tokens = new Map<string, { jobId: string; at: number }>();
  const requests: RecordedRequest[] = [];
  const injected = new Map<MediaConvertOperation, InjectedError>();

  const templateArn = (name: string) => `arn:aws:mediaconvert:${region}:${accountId}:jobTemplates/${name}`;
  const defaultQueue = `arn:aws:mediaconvert:${region}:${accountId}:queues/Default`;

  /** Resource ARN → its tags (job templates). */
  const resourceTags = new Map<string, Record<string, string>>();

  function route(method: string, path: string): { operation: MediaConvertOperation | 'Unknown'; param?: string } {
    const t = /^\/2017-08-29\/tags(?:\/(.+))?$/.exec(path);
    if (t) {
      const param = t[1] === undefined ? undefined : decodeURIComponent(t[1]);
      const operation: MediaConvertOperation | undefined =
        method === 'POST' && param === undefined ? 'TagResource' : method === 'GET' && param ? 'ListTagsForResource' : method === 'PUT' && param ? 'UntagResource' : undefined;
      return operation ? { operation, ...(param === undefined ? {} : { param }) } : { operation: 'Unknown' };
    }
    const m = /^\/2017-08-29\/(jobTemplates|jobs)(?:\/([^/]+))?\/?$/.exec(path);
    if (!m) return { operation: 'Unknown' };
    const [, collection, raw] = m;
    const param = raw === undefined ? undefined : decodeURIComponent(raw);
    const table: Record<string, MediaConvertOperation> =
      collection === 'jobTemplates'
        ? { 'POST:': 'CreateJobTemplate', 'GET:': 'ListJobTemplates', 'GET:p': 'GetJobTemplate', 'PUT:p': 'UpdateJobTemplate', 'DELETE:p': 'DeleteJobTemplate' }
        : { 'POST:': 'CreateJob', 'GET:': 'ListJobs', 'GET:p': 'GetJob', 'DELETE:p': 'CancelJob' };
    const operation = table[`${method}:${param === undefined ? '' : 'p'}`] ?? 'Unknown';
    return { operation, ...(param === undefined ? {} : { param }) };
  }

  function handle(operation: MediaConvertOperation, param: string | undefined, body: WireObject, query: Record<string, string>): [number, WireObject] {
    switch (operation) {
      case 'CreateJobTemplate': {
        const name = body.name;
        if (typeof name !== 'string' || name === '') throw badRequest('name is required');
        if (!isObject(body.settings)) throw badRequest('settings is required');
        if (templates.has(name)) throw new RestError(409, 'ConflictException', `A job template named ${name} already exists.`);
        const nowSec = epochSeconds();
        const template: WireObject = {
          ...body,
          arn: templateArn(name),
          type: 'CUSTOM',
          createdAt: nowSec,
          lastUpdated: nowSec,
          priority: body.priority ?? 0,
          statusUpdateInterval: body.statusUpdateInterval ?? 'SECONDS_60',
        };
        // Tags are stored on the resource, not echoed in the template (as in MediaConvert).
        delete template.tags;
        templates.set(name, template);
        resourceTags.set(templateArn(name), isObject(body.tags) ? ({ ...body.tags } as Record<string, string>) : {});
        return [201, { jobTemplate: template }];
      }
      case 'GetJobTemplate': {
        const template = templates.get(param!);
        if (!template) throw notFound(`The specified job template ${param} was not found.`);
        return [200, { jobTemplate: template }];
      }
      case 'UpdateJobTemplate': {
        const template = templates.get(param!);
        if (!template) throw notFound(`The specified job template ${param} was not found.`);
        const updated: WireObject = { ...template, ...body, name: param, lastUpdated: epochSeconds() };
        templates.set(param!, updated);
        return [200, { jobTemplate: updated }];
      }
      case 'DeleteJobTemplate': {
        if (!templates.delete(param!)) throw notFound(`The specified job template ${param} was not found.`);
        resourceTags.delete(templateArn(param!));
        return [202, {}];
      }
      case 'ListJobTemplates': {
        const all = [...templates.values()].sort((a, b) => String(a.name).localeCompare(String(b.name)));
        if (query.order === 'DESCENDING') all.reverse();
        const filtered = query.category ? all.filter((t) => t.category === query.category) : all;
        const { items, nextToken } = page(filtered, query);
        return [200, { jobTemplates: items, ...(nextToken ? { nextToken } : {}) }];
      }
      case 'CreateJob': {
        if (typeof body.role !== 'string' || body.role === '') throw badRequest('role is required');
        if (!isObject(body.settings)) throw badRequest('settings is required');
        if (typeof body.jobTemplate === 'string') {
          const name = body.jobTemplate.replace(/^arn:aws:mediaconvert:[^:]*:[^:]*:jobTemplates\//, '');
          if (!templates.has(name)) throw notFound(`The specified job template ${body.jobTemplate} was not found.`);
        }
        const token = typeof body.clientRequestToken === 'string' ? body.clientRequestToken : undefined;
        const seen = token ? tokens.get(token) : undefined;
        const existing = seen && now() - seen.at < TOKEN_WINDOW_MS ? jobs.get(seen.jobId) : undefined;
        if (existing) return [201, { job: existing }];
        const id = newJobId(now());
        const nowSec = epochSeconds();
        const job: WireObject = {
          ...body,
          id,
          arn: `arn:aws:mediaconvert:${region}:${accountId}:jobs/${id}`,
          status: 'SUBMITTED',
          createdAt: nowSec,
          queue: body.queue ?? defaultQueue,
          priority: body.priority ?? 0,
          timing: { submitTime: nowSec },
        };
        delete job.tags;
        jobs.set(id, job);
        if (token) tokens.set(token, { jobId: id, at: now() });
        return [201, { job }];
      }
      case 'ListTagsForResource': {
        const tags = resourceTags.get(param!);
        if (!tags) throw notFound(`The resource ${param} was not found.`);
        return [200, { resourceTags: { arn: param, tags } }];
      }
      case 'TagResource': {
        const arn = typeof body.arn === 'string' ? body.arn : '';
        const tags = resourceTags.get(arn);
        if (!tags) throw notFound(`The resource ${arn} was not found.`);
        if (!isObject(body.tags)) throw badRequest('tags is required');
        Object.assign(tags, body.tags);
        return [200, {}];
      }
      case 'UntagResource': {
        const tags = resourceTags.get(param!);
        if (!tags) throw notFound(`The resource ${param} was not found.`);
        for (const k of Array.isArray(body.tagKeys) ? body.tagKeys : []) delete tags[String(k)];
        return [200, {}];
      }
      case 'GetJob': {
        const job = jobs.get(param!);
        if (!job) throw notFound(`The specified job ${param} was not found.`);
        return [200, { job }];
      }
      case 'CancelJob': {
        const job = jobs.get(param!);
        if (!job) throw notFound(`The specified job ${param} was not found.`);
        if (job.status !== 'SUBMITTED' && job.status !== 'PROGRESSING') throw badRequest(`Job ${param} is ${String(job.status)} and cannot be canceled.`);
        job.status = 'CANCELED';
        return [202, {}];
      }
      case 'ListJobs': {
        let all = [...jobs.values()];
        // MediaConvert lists newest first unless order=ASCENDING.
        if (query.order !== 'ASCENDING') all.reverse();
        if (query.status) all = all.filter((j) => j.status === query.status);
        if (query.queue) all = all.filter((j) => j.queue === query.queue || String(j.queue).endsWith(`/${query.queue}`));
        const { items, nextToken } = page(all, query);
        return [200, { jobs: items, ...(nextToken ? { nextToken } : {}) }];
      }
    }
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const query = Object.fromEntries(url.searchParams);
    const { operation, param } = route(req.method ?? 'GET', url.pathname);
    let body: WireObject | undefined;
    try {
      body = raw ? (JSON.parse(raw) as WireObject) : undefined;
    } catch {
      requests.push({ operation, method: req.method ?? '', path: url.pathname, query, body: undefined, headers: req.headers });
      return sendJson(res, 400, { message: 'The request body is not valid JSON.' }, 'BadRequestException');
    }
    requests.push({ operation, method: req.method ?? '', path: url.pathname, query, body, headers: req.headers });
    if (operation === 'Unknown') return sendJson(res, 404, { message: `The MediaConvert fake does not model ${req.method} ${url.pathname}.` }, 'NotFoundException');
    const fail = injected.get(operation);
    if (fail) {
      injected.delete(operation);
      return sendJson(res, fail.status, { message: fail.message ?? `Injected ${fail.type}` }, fail.type);
    }
    try {
      const [status, out] = handle(operation, param, body ?? {}, query);
      sendJson(res, status, out);
    } catch (err) {
      if (err instanceof RestError) return sendJson(res, err.status, { message: err.message }, err.type);
      sendJson(res, 500, { message: (err as Error).message }, 'InternalServerErrorException');
    }
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { message: String(err) }, 'InternalServerErrorException');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;

  return {
    endpoint,
    env: { AWS_ENDPOINT_URL_MEDIACONVERT: endpoint },
    region,
    accountId,
    requests,
    requestsOf: (operation) => requests.filter((r) => r.operation === operation),
    jobTemplate: (name) => templates.get(name),
    jobTemplateNames: () => [...templates.keys()].sort(),
    jobs: () => [...jobs.values()],
    job: (id) => jobs.get(id),
    setJobStatus(id, status, extra = {}) {
      const job = jobs.get(id);
      if (!job) throw new Error(`MediaConvert fake: no job ${id}`);
      const nowSec = epochSeconds();
      const timing: WireObject = { ...(job.timing as WireObject), ...(status === 'PROGRESSING' ? { startTime: nowSec } : {}) };
      if (status === 'COMPLETE' || status === 'ERROR' || status === 'CANCELED') timing.finishTime = nowSec;
      Object.assign(job, extra, { status, timing });
      return job;
    },
    failNext(operation, error) {
      injected.set(operation, error);
    },
    reset() {
      templates.clear();
      resourceTags.clear();
      jobs.clear();
      tokens.clear();
      requests.length = 0;
      injected.clear();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
