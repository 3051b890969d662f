/**
 * The dashboard: pages (posts, a job's timeline and player, notifications) served by the listener, the read routes
 * they call, sign-in with a session cookie, live updates over server-sent events, and the OpenAPI document of every
 * route (/openapi.json, /docs). Registered by buildListener() unless turned off (`listen --no-dashboard`).
 *
 * The pages are one static HTML shell and plain ES modules from web/dashboard (no build step: the whole UI is a few
 * kilobytes, see that folder's README); they hold no data, so they are public and every datum comes from the API,
 * which needs credentials (a header, or the session cookie on reads). Without a session the shell shows the sign-in
 * form and nothing else.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import type { Job, JobOutput } from '../../core/job-state.js';
import type { ListenerStore, NotificationState } from '../../core/store-port.js';
import type { Authenticator } from '../auth.js';
import { LiveHub } from './live.js';
import { SERVABLE_EXTENSIONS, createS3Media, fileSize, fromS3Url, insideRoots, localRoots, locate, rewritePlaylist, s3Url, type S3Media } from './media.js';
import { DASHBOARD_CLIENT_HEADER, cameOverHttps, type Sessions } from './session.js';
import { describeEvent } from './timeline.js';

export { LiveHub } from './live.js';
export { createSessions, DASHBOARD_CLIENT_HEADER, SESSION_COOKIE, type Sessions } from './session.js';

export interface DashboardOptions {
  /** Fed by store.onCommit (server.ts wires it once the store is open). */
  live: LiveHub;
  /** S3 access for thumbnails and the player; undefined: built from the environment (AWS_REGION, credentials chain). */
  media?: S3Media;
  /** The config's region, when the environment has none. */
  region?: string;
  /** `vidpipe local` with folder storage: s3://bucket/key outputs are the files <storageDir>/<bucket>/<key>. */
  storageDir?: string;
}

export interface DashboardPluginOptions {
  dashboard: DashboardOptions;
  /** The store as it is at request time (server.ts swaps it in once open). */
  store(): ListenerStore;
  authenticate: Authenticator;
  sessions: Sessions;
  authHeader: string;
  basic: boolean;
  /** Every route of the app, as fastify's onRoute hook saw them (OpenAPI is generated from their schemas). */
  routes: readonly RouteOptions[];
}

/** The package's root (where package.json is), from src/… under vitest or dist/src/… when built. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('vidpipe: cannot find the package root for the dashboard assets');
    dir = up;
  }
  return dir;
}

export const WEB_ROOT = path.join(packageRoot(), 'web', 'dashboard');
const HLS_FILE = 'hls.light.min.js';

const PAGE_PATHS = ['/', '/jobs/:jobId', '/notifications'] as const;
const NOTIFICATION_STATES = ['pending', 'sent', 'failed', 'skipped'] as const;
/** Playlists are small text files; a larger one is not one. */
const MAX_PLAYLIST_BYTES = 2 * 1024 * 1024;

const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;

const JOB_ID_PARAMS = { type: 'object', properties: { jobId: { type: 'string', maxLength: 512 } } } as const;

const notFound = (reply: FastifyReply, message: string) => reply.code(404).send({ error: 'not_found', message });

export async function dashboardPlugin(app: FastifyInstance, opts: DashboardPluginOptions): Promise<void> {
  const live = opts.dashboard.live;
  const media = opts.dashboard.media ?? createS3Media(opts.dashboard.region ? { region: opts.dashboard.region } : {});
  app.addHook('onClose', async () => {
    live.closeAll();
    if (!opts.dashboard.media) media.destroy();
  });
  // Streams would hold fastify.close() open until their clients leave.
  app.addHook('preClose', async () => live.closeAll());

  await app.register(docsPlugin, opts);
  await app.register(async (ui) => uiPlugin(ui, opts, media), {});
}

/** Content-Security-Policy for the pages: scripts and styles only from here (no inline), media from S3 or a local runner. */
function csp(mediaOrigins: readonly string[]): string {
  // Local runners (local transcode mode) serve their output directory on a loopback port.
  const local = ['http://127.0.0.1:*', 'http://localhost:*'];
  const media = [...mediaOrigins, ...local].join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: ${media}`,
    `media-src 'self' blob: ${media}`,
    `connect-src 'self' ${media}`,
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

async function uiPlugin(app: FastifyInstance, opts: DashboardPluginOptions, media: S3Media): Promise<void> {
  const store = opts.store;
  const live = opts.dashboard.live;
  const storageDir = opts.dashboard.storageDir;
  /** The job, or undefined after answering 404. */
  const jobOr404 = async (jobId: string, reply: FastifyReply): Promise<Job | undefined> => {
    const job = await store().getJob(jobId);
    if (!job) notFound(reply, `no video with job id ${jobId}`);
    return job;
  };
  const policy = csp(media.origins());

  // The shell, assets and sign-in carry no data: public (the auth hook lets them through).
  app.addHook('onRoute', (route) => {
    if (route.url?.startsWith('/ui/')) route.config = { ...(route.config as object), public: true };
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('content-security-policy', policy);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    return payload;
  });

  await app.register(fastifyStatic, { root: WEB_ROOT, prefix: '/ui/', wildcard: false, index: false, cacheControl: true, maxAge: 0 });
  const hlsDir = path.dirname(createRequire(import.meta.url).resolve(`hls.js/dist/${HLS_FILE}`));
  await app.register(fastifyStatic, { root: hlsDir, prefix: '/ui/vendor/', wildcard: false, allowedPath: (p) => p === `/${HLS_FILE}`, decorateReply: false, maxAge: '1d' });

  const shell = readFileSync(path.join(WEB_ROOT, 'index.html'));
  for (const url of PAGE_PATHS)
    app.get(url, { config: { public: true }, schema: { hide: true } }, async (_req, reply) =>
      reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(shell),
    );

  // ── sign-in ─────────────────────────────────────────────────────────────────────────────────────────────────────
  app.post<{ Body: { apiKey?: string; user?: string; password?: string } }>(
    '/dashboard/session',
    {
      config: { public: true },
      schema: {
        summary: 'Sign in: exchange the API key (or Basic user and password) for a session cookie',
        tags: ['dashboard'],
        security: [],
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { apiKey: { type: 'string', maxLength: 1024 }, user: { type: 'string', maxLength: 256 }, password: { type: 'string', maxLength: 1024 } },
        },
        response: { 200: { type: 'object', properties: { expiresAt: { type: 'integer' } } }, 401: errorSchema },
      },
    },
    async (req, reply) => {
      const { apiKey, user, password } = req.body ?? {};
      const headers: Record<string, string> = {};
      if (apiKey) headers[opts.authHeader] = apiKey;
      if (user !== undefined && password !== undefined) headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      const result = opts.authenticate(headers);
      if (result !== 'ok') {
        req.log.warn({ reason: result }, 'dashboard sign-in refused');
        return reply.code(401).send({ error: 'unauthorized', message: result === 'missing' ? 'enter the API key or the Basic user and password' : 'credentials not accepted' });
      }
      const session = opts.sessions.issue();
      reply.header('set-cookie', opts.sessions.cookie(session.value, session.expiresAt, cameOverHttps(req)));
      reply.header('cache-control', 'no-store');
      return { expiresAt: session.expiresAt };
    },
  );

  app.delete('/dashboard/session', { config: { public: true }, schema: { summary: 'Sign out (clears the session cookie)', tags: ['dashboard'], security: [] } }, async (req, reply) => {
    reply.header('set-cookie', opts.sessions.clear(cameOverHttps(req)));
    return reply.code(204).send();
  });

  app.get(
    '/api/session',
    {
      schema: {
        summary: 'Who is asking: signed in (by cookie or header), until when, and what the listener can show',
        tags: ['dashboard'],
        response: {
          200: {
            type: 'object',
            properties: {
              via: { enum: ['session', 'credentials'] },
              expiresAt: { type: ['integer', 'null'] },
              authHeader: { type: 'string' },
              basic: { type: 'boolean' },
              s3: { type: 'object', properties: { ok: { type: 'boolean' }, reason: { type: 'string' } } },
            },
          },
        },
      },
    },
    async (req) => {
      const session = opts.sessions.verify(req);
      const s3 = await media.status();
      return { via: session ? 'session' : 'credentials', expiresAt: session?.expiresAt ?? null, authHeader: opts.authHeader, basic: opts.basic, s3 };
    },
  );

  // ── notifications ───────────────────────────────────────────────────────────────────────────────────────────────
  app.get<{ Querystring: { state?: NotificationState; jobId?: string; limit?: number } }>(
    '/api/notifications',
    {
      schema: {
        summary: 'The Slack outbox, newest first: state, attempts, next attempt, last error',
        tags: ['read'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { enum: [...NOTIFICATION_STATES] },
            jobId: { type: 'string', maxLength: 256 },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
          },
        },
      },
    },
    async (req) => {
      const { state, jobId, limit } = req.query;
      return { notifications: await store().listNotifications({ limit: limit ?? 100, ...(state ? { states: [state] } : {}), ...(jobId ? { jobId } : {}) }) };
    },
  );

  app.post<{ Body: { ids: number[] } }>(
    '/api/notifications/retry',
    {
      // A cookie may authorize this write only with the dashboard's header (see app.ts and session.ts).
      config: { session: 'write' },
      schema: {
        summary: 'Send failed or skipped notifications again (sent ones are never re-sent)',
        tags: ['dashboard'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['ids'],
          properties: { ids: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'integer', minimum: 1 } } },
        },
        response: { 200: { type: 'object', properties: { requeued: { type: 'array', items: { type: 'integer' } } } } },
      },
    },
    async (req) => {
      const requeued = await store().requeueNotifications({ ids: req.body.ids }, Date.now());
      if (requeued.length) live.notify('notifications');
      return { requeued };
    },
  );

  // ── a job, for its page ─────────────────────────────────────────────────────────────────────────────────────────
  app.get<{ Params: { eventId: string } }>(
    '/api/events/:eventId',
    { schema: { summary: 'One stored event, exactly as received', tags: ['read'], params: { type: 'object', properties: { eventId: { type: 'string', maxLength: 512 } } } } },
    async (req, reply) => {
      const [found] = await store().getEventBodies([req.params.eventId]);
      if (!found) return notFound(reply, `no event ${req.params.eventId}`);
      return reply.header('content-type', 'application/json; charset=utf-8').send(found.body);
    },
  );

  app.get<{ Params: { jobId: string } }>(
    '/api/videos/:jobId/timeline',
    {
      schema: {
        summary: 'A job’s events in order, with what each says: status, time, percent, phase, warnings, error; anomalies marked',
        tags: ['read'],
        params: JOB_ID_PARAMS,
      },
    },
    async (req, reply) => {
      const job = await jobOr404(req.params.jobId, reply);
      if (!job) return reply;
      const rows = await store().listJobEvents(job.jobId);
      const bodies = new Map((await store().getEventBodies(rows.map((r) => r.eventId))).map((b) => [b.eventId, b.body]));
      const anomalous = new Map(job.anomalies.map((a) => [a.eventId, a.reason]));
      return {
        jobId: job.jobId,
        anomalies: job.anomalies,
        events: rows.map((r) => ({ ...r, ...describeEvent(bodies.get(r.eventId)), anomaly: anomalous.get(r.eventId) ?? null })),
      };
    },
  );

  app.get<{ Params: { jobId: string } }>(
    '/api/videos/:jobId/media',
    {
      schema: {
        summary: 'How the job’s outputs can be seen here: the player source (or why not), the thumbnail, output sizes',
        tags: ['read'],
        params: JOB_ID_PARAMS,
      },
    },
    async (req, reply) => {
      const job = await jobOr404(req.params.jobId, reply);
      if (!job) return reply;
      return mediaOf(job, media, storageDir);
    },
  );

  app.get<{ Params: { jobId: string } }>(
    '/api/videos/:jobId/thumbnail',
    {
      schema: {
        summary: 'The job’s thumbnail: a redirect to a short-lived presigned URL (S3), the runner’s URL, or the local file',
        tags: ['read'],
        params: JOB_ID_PARAMS,
      },
    },
    async (req, reply) => {
      const job = await store().getJob(req.params.jobId);
      const thumb = job?.outputs?.find((o) => o.kind === 'thumbnail');
      if (!job || !thumb) return notFound(reply, 'no thumbnail');
      const loc = locate(thumb.uri, storageDir);
      reply.header('cache-control', 'private, max-age=60');
      if (loc?.kind === 's3') {
        const status = await media.status();
        if (!status.ok) return reply.code(404).send({ error: 'not_viewable', message: status.reason });
        return reply.redirect(await media.presign(loc.bucket, loc.key), 302);
      }
      if (loc?.kind === 'http') return reply.redirect(loc.url, 302);
      if (loc?.kind === 'file') return sendLocal(reply, loc.path, localRoots(job.outputs, storageDir));
      return notFound(reply, 'the thumbnail URI is not one this listener can show');
    },
  );

  // HLS from S3: the listener reads each playlist and rewrites its URIs (segments → presigned, playlists → here).
  app.get<{ Params: { jobId: string }; Querystring: { uri: string } }>(
    '/api/media/:jobId/playlist',
    {
      schema: {
        summary: 'An HLS playlist of the job’s S3 output, with segment URIs presigned for a short time',
        tags: ['read'],
        params: JOB_ID_PARAMS,
        querystring: { type: 'object', required: ['uri'], properties: { uri: { type: 'string', pattern: '^s3://', maxLength: 2048 } } },
      },
    },
    async (req, reply) => {
      const job = await jobOr404(req.params.jobId, reply);
      if (!job) return reply;
      const target = fromS3Url(req.query.uri) ?? locateS3(req.query.uri);
      const prefixes = s3Prefixes(job.outputs);
      if (!target || !prefixes.some((p) => target.bucket === p.bucket && target.key.startsWith(p.prefix)) || !target.key.endsWith('.m3u8'))
        return notFound(reply, 'not a playlist of this job’s outputs');
      const status = await media.status();
      if (!status.ok) return reply.code(404).send({ error: 'not_viewable', message: status.reason });
      let text: string;
      try {
        text = await media.getText(target.bucket, target.key, MAX_PLAYLIST_BYTES);
      } catch (err) {
        req.log.warn({ err: (err as Error).message }, 'playlist not readable');
        return reply.code(404).send({ error: 'not_found', message: `s3://${target.bucket}/${target.key} could not be read` });
      }
      const body = await rewritePlaylist(text, s3Url(target.bucket, target.key), async (abs) => {
        const ref = fromS3Url(abs);
        if (!ref) return abs;
        if (ref.key.endsWith('.m3u8')) return `/api/media/${encodeURIComponent(job.jobId)}/playlist?uri=${encodeURIComponent(`s3://${ref.bucket}/${ref.key}`)}`;
        return media.presign(ref.bucket, ref.key);
      });
      return reply.header('content-type', 'application/vnd.apple.mpegurl').header('cache-control', 'no-store').send(body);
    },
  );

  // Local mode: files under the directory of one of the job's outputs (relative playlist URIs resolve here too).
  app.get<{ Params: { jobId: string; '*': string } }>(
    '/api/media/:jobId/file/*',
    {
      schema: {
        summary: 'A file of the job’s local output directory (local transcode mode)',
        tags: ['read'],
        params: { type: 'object', properties: { jobId: { type: 'string', maxLength: 512 }, '*': { type: 'string', maxLength: 4096 } } },
      },
    },
    async (req, reply) => {
      const job = await jobOr404(req.params.jobId, reply);
      if (!job) return reply;
      return sendLocal(reply, path.resolve('/', req.params['*']), localRoots(job.outputs, storageDir));
    },
  );

  // ── live ────────────────────────────────────────────────────────────────────────────────────────────────────────
  app.get(
    '/api/stream',
    {
      schema: {
        summary: 'Server-sent events: `commit` (events just stored: {events: [{jobId, eventId}]}) and `notifications`',
        tags: ['read'],
      },
    },
    async (_req, reply) => {
      reply.hijack();
      if (!live.attach(reply.raw)) {
        reply.raw.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' });
        reply.raw.end(JSON.stringify({ error: 'unavailable', message: 'too many live streams open' }));
      }
    },
  );
}

function locateS3(uri: string): { bucket: string; key: string } | undefined {
  const loc = locate(uri);
  return loc?.kind === 's3' ? { bucket: loc.bucket, key: loc.key } : undefined;
}

/** The S3 "directories" of the job's outputs: playlists and segments must be under one. */
function s3Prefixes(outputs: readonly JobOutput[] | null): Array<{ bucket: string; prefix: string }> {
  const out: Array<{ bucket: string; prefix: string }> = [];
  for (const o of outputs ?? []) {
    const loc = locate(o.uri);
    if (loc?.kind === 's3') out.push({ bucket: loc.bucket, prefix: loc.key.slice(0, loc.key.lastIndexOf('/') + 1) });
  }
  return out;
}

async function sendLocal(reply: FastifyReply, file: string, roots: readonly string[]): Promise<FastifyReply> {
  const type = SERVABLE_EXTENSIONS[path.extname(file).toLowerCase()];
  if (!type || !insideRoots(file, roots)) return notFound(reply, 'not a file of this job’s outputs');
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return notFound(reply, 'the file is not there (moved or deleted?)');
  }
  // A symlink inside the directory must not lead out of it.
  const realRoots = roots.flatMap((r) => {
    try {
      return [realpathSync(r)];
    } catch {
      return [];
    }
  });
  if (!insideRoots(real, realRoots)) return notFound(reply, 'not a file of this job’s outputs');
  return reply.header('content-type', type).header('cache-control', 'private, max-age=60').sendFile(path.basename(real), path.dirname(real));
}

export interface MediaAnswer {
  player:
    | { state: 'playable'; kind: 'hls' | 'mp4'; url: string; source: 's3' | 'http' | 'file' }
    | { state: 'unavailable'; reason: string }
    | { state: 'none'; reason: string };
  thumbnail: { state: 'available'; url: string } | { state: 'unavailable'; reason: string } | { state: 'none'; reason: string };
  outputs: Array<JobOutput & { size: number | null }>;
}

/** What the job page can show: resolved here so the page never has to know about S3 or local paths. */
export async function mediaOf(job: Job, media: S3Media, storageDir?: string): Promise<MediaAnswer> {
  const outputs = job.outputs ?? [];
  const id = encodeURIComponent(job.jobId);
  const at = (uri: string) => locate(uri, storageDir);
  const s3 = outputs.some((o) => at(o.uri)?.kind === 's3') ? await media.status() : { ok: true as const };
  const sizes = await Promise.all(
    outputs.slice(0, 50).map(async (o) => {
      const loc = at(o.uri);
      if (loc?.kind === 's3' && s3.ok) return (await media.size(loc.bucket, loc.key)) ?? null;
      if (loc?.kind === 'file') return (await fileSize(loc.path)) ?? null;
      return null;
    }),
  );
  const master = outputs.find((o) => o.kind === 'playlist' && o.uri.endsWith('.m3u8'));
  const mp4 = outputs.find((o) => o.kind === 'video' && /\.mp4$/i.test(o.uri));
  const source = master ?? mp4;
  let player: MediaAnswer['player'];
  if (!source) {
    player = { state: 'none', reason: job.status === 'COMPLETE' ? 'this job produced no HLS playlist or MP4' : `no outputs yet: the job is ${job.status}` };
  } else {
    const kind = source === master ? 'hls' : 'mp4';
    const loc = at(source.uri);
    if (loc?.kind === 's3') {
      if (!s3.ok) player = { state: 'unavailable', reason: `not playable here: ${s3.reason}` };
      else if (kind === 'hls') player = { state: 'playable', kind, source: 's3', url: `/api/media/${id}/playlist?uri=${encodeURIComponent(source.uri)}` };
      else player = { state: 'playable', kind, source: 's3', url: await media.presign(loc.bucket, loc.key) };
    } else if (loc?.kind === 'http') player = { state: 'playable', kind, source: 'http', url: loc.url };
    else if (loc?.kind === 'file') player = { state: 'playable', kind, source: 'file', url: `/api/media/${id}/file${loc.path.split(path.sep).map(encodeURIComponent).join('/')}` };
    else player = { state: 'unavailable', reason: `not playable here: ${source.uri} is not an S3, HTTP or file location` };
  }
  const thumb = outputs.find((o) => o.kind === 'thumbnail');
  let thumbnail: MediaAnswer['thumbnail'];
  if (!thumb) thumbnail = { state: 'none', reason: 'no thumbnail output (add a frame-capture output to the job template)' };
  else if (at(thumb.uri)?.kind === 's3' && !s3.ok) thumbnail = { state: 'unavailable', reason: s3.reason };
  else thumbnail = { state: 'available', url: `/api/videos/${id}/thumbnail` };
  return { player, thumbnail, outputs: outputs.map((o, i) => ({ ...o, size: sizes[i] ?? null })) };
}

/**
 * OpenAPI 3 from the routes' own schemas: @fastify/swagger runs over a copy of every route the app registered (seen by
 * its onRoute hook from the start, including the EventBridge route and the read API defined before this plugin), on
 * first request, then served at /openapi.json and by swagger-ui at /docs.
 */
async function docsPlugin(app: FastifyInstance, opts: DashboardPluginOptions): Promise<void> {
  const document: Record<string, unknown> = {};
  let built: Promise<void> | undefined;
  const build = () =>
    (built ??= (async () => {
      Object.assign(document, await generateOpenApi(opts.routes, opts.authHeader, opts.basic));
    })().catch((err: unknown) => {
      built = undefined;
      throw err;
    }));

  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config as object), public: true };
  });
  app.addHook('onRequest', async () => build());
  await app.register(fastifySwagger, { mode: 'static', specification: { document: document as never } });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true, uiConfig: { deepLinking: false } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => document);
}

/** Summaries and tags for the routes app.ts defines (their schemas there validate; these only describe). */
const CORE_ROUTE_DOCS: Record<string, { summary: string; tags: string[] }> = {
  'POST /aws/listener/eventbridge/video': { summary: 'A MediaConvert job state change, as an EventBridge API destination sends it (header auth only)', tags: ['ingest'] },
  'GET /healthz': { summary: 'The process answers', tags: ['health'] },
  'GET /readyz': { summary: 'A write would commit now and the notifier turns (503 with the reason otherwise)', tags: ['health'] },
  'GET /api/videos': { summary: 'Jobs, newest first, keyset-paged (nextCursor), optionally by state', tags: ['read'] },
  'GET /api/videos/:jobId': { summary: 'One job with its events and notifications', tags: ['read'] },
  'GET /api/posts/:id': { summary: 'A post with its newest video', tags: ['read'] },
};

export async function generateOpenApi(routes: readonly RouteOptions[], authHeader: string, basic: boolean): Promise<Record<string, unknown>> {
  const sub = Fastify({ logger: false });
  await sub.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'vidpipe listener',
        version: '1',
        description:
          'The listener’s HTTP API: the EventBridge endpoint (API key header or Basic only), the read API and the dashboard’s routes. ' +
          'Reads accept the credentials or the dashboard’s session cookie.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: authHeader },
          ...(basic ? { basic: { type: 'http', scheme: 'basic' } } : {}),
          session: { type: 'apiKey', in: 'cookie', name: 'vidpipe_session' },
        },
      },
      security: [{ apiKey: [] }, ...(basic ? [{ basic: [] }] : []), { session: [] }],
    },
  });
  const seen = new Set<string>();
  for (const r of routes) {
    const methods = (Array.isArray(r.method) ? r.method : [r.method]).filter((m) => m !== 'HEAD');
    const schema = (r.schema ?? {}) as Record<string, unknown>;
    const config = (r.config ?? {}) as { public?: boolean };
    if (!methods.length || schema.hide || r.url.startsWith('/docs')) continue;
    const key = `${methods.join(',')} ${r.url}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const copy: Record<string, unknown> = { ...CORE_ROUTE_DOCS[`${methods[0]} ${r.url}`], ...schema };
    if (config.public && !copy.security) copy.security = [];
    // The EventBridge route is header-only: a cookie never authorizes it.
    if (methods.includes('POST') && r.url.startsWith('/aws/')) copy.security = [{ apiKey: [] }, ...(basic ? [{ basic: [] }] : [])];
    sub.route({ method: methods, url: r.url, schema: copy, handler: async () => null });
  }
  await sub.ready();
  const doc = sub.swagger() as unknown as Record<string, unknown>;
  await sub.close();
  return JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
}

export type { FastifyRequest };
