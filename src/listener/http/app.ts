/**
 * The listener's HTTP transport: routes, body validation, auth and the one error handler. The route authenticates and
 * hands the parsed body to the core's ingestBody() (a remembered redelivery answered from its id, anything else
 * validated, normalised and stored); the store arrives by injection (a port, any engine). buildListener() never listens
 * (ARCHITECTURE convention 1): tests inject requests or call .listen() on a free port; server.ts runs it for real.
 *
 * Status codes follow EventBridge's retry rules (aws-facts.md §1.3): it retries 401, 407, 409, 429 and 5xx and sends
 * other 4xx to the dead-letter queue. So: a bad event is 400 (retrying cannot fix it), a busy database is 503 with
 * Retry-After, and bad input is never a 500.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyServerOptions, type RouteOptions } from 'fastify';
import { DEFAULT_LISTENER_PATH } from '../../config/config.js';
import { createEventParser, type ParsedEvent } from '../../events/parse-event.js';
import type { NormalisedEvent } from '../../events/normalise.js';
import { ingestBody, type IngestAnswer } from '../core/ingest.js';
import { BadCursorError, StoreUnavailableError, type ListenerStore, type Readiness } from '../core/store-port.js';
import { checkJsonLimits } from '../../events/json-limits.js';
import { createAuthenticator, type AuthConfig } from './auth.js';
import { DASHBOARD_CLIENT_HEADER, createSessions, dashboardPlugin, type DashboardOptions } from './dashboard/index.js';
import { DEFAULT_CONNECTION_LIMITS, applyConnectionLimits, fastifyConnectionOptions, type ConnectionLimits } from '../limits.js';

/** EventBridge's event size limit: a larger body cannot be a real event. */
export const BODY_LIMIT_BYTES = 256 * 1024;
/** Seconds EventBridge (or any client) should wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 5;

export interface ListenerDeps {
  store: ListenerStore;
  auth: AuthConfig;
  /** Serve POST /aws/listener/eventbridge/video (default true; `listen --pull` alone serves only reads and health). */
  endpoint?: boolean;
  /** Each event the route ingested, with its answer (the live view). */
  onIngested?: (answer: IngestAnswer, event: NormalisedEvent) => void;
  /** More readiness checks than the store's (the notifier's loop). */
  readiness?: Array<() => Readiness | Promise<Readiness>>;
  /** Custom sources processed like aws.mediaconvert (the simulator's). */
  processedSources: readonly string[];
  /** fastify's logger option (pino settings or an instance); false in quiet tests. */
  logger?: FastifyServerOptions['logger'];
  loggerInstance?: FastifyBaseLogger;
  /** The dashboard (pages, sessions, live updates, /docs); undefined: off (`listen --no-dashboard`). */
  dashboard?: DashboardOptions;
  /** Timeouts and the connection bound (default DEFAULT_CONNECTION_LIMITS). */
  limits?: ConnectionLimits;
}

const JOB_STATES = ['PROGRESSING', 'COMPLETE', 'ERROR', 'CANCELED'] as const;

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

export function buildListener(deps: ListenerDeps): FastifyInstance {
  const header = deps.auth.header;
  const limits = deps.limits ?? DEFAULT_CONNECTION_LIMITS;
  const app = Fastify({
    ...(deps.loggerInstance
      ? { loggerInstance: deps.loggerInstance }
      : {
          logger:
            deps.logger === undefined || deps.logger === false || deps.logger === true
              ? (deps.logger ?? false)
              : {
                  ...(deps.logger as object),
                  // Credentials never reach a log line, whatever a serializer or a future log call includes.
                  redact: { paths: ['req.headers.authorization', `req.headers["${header}"]`, 'webhookUrl', '*.webhookUrl'], censor: '[redacted]' },
                },
        }),
    bodyLimit: BODY_LIMIT_BYTES,
    // One line per event (below) says more than fastify's two generic lines per request.
    logController: new LogController({ disableRequestLogging: true }),
    // Slow or stalled clients cannot hold connections for long (limits.ts); EventBridge itself gives up after 5 s.
    ...fastifyConnectionOptions(limits),
    // Requests arriving on kept-alive connections during shutdown get our 503 below, with Retry-After.
    return503OnClosing: false,
  });
  // Every route as registered, from the first: the dashboard generates the OpenAPI document from their schemas.
  const routes: RouteOptions[] = [];
  if (deps.dashboard) app.addHook('onRoute', (route) => void routes.push(route));

  applyConnectionLimits(app.server, limits);

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  // fastify also parses text/plain by default: the endpoint takes JSON only (415 otherwise).
  app.removeContentTypeParser('text/plain');
  // fastify's own JSON parser (same limits, same prototype-poisoning refusal), keeping the text it parsed: the writer
  // stores it as the event's raw body and sends it to its thread as text, cheaper than cloning the parsed object.
  const bodyText = new WeakMap<object, string>();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    // Depth, number range and Unicode checked on the text, before anything recurses over it (json-limits.ts).
    const overLimit = checkJsonLimits(body as string);
    if (overLimit) return done(overLimit, undefined);
    bodyText.set(req, body as string);
    parseJson(req, body as string, done);
  });

  const parseEvent = createEventParser({ processedSources: deps.processedSources });
  const authenticate = createAuthenticator(deps.auth);
  const sessions = deps.dashboard ? createSessions({ fingerprint: authenticate.credentialsFingerprint }) : undefined;

  app.addHook('onRequest', async (req, reply) => {
    if (closing) {
      reply.header('connection', 'close');
      throw new StoreUnavailableError('the listener is shutting down');
    }
    if (req.url === '/healthz' || (req.routeOptions.config as { public?: boolean } | undefined)?.public) return;
    const result = authenticate(req.headers);
    if (result === 'ok') return;
    if (result === 'unavailable') {
      // The secrets file became readable by others (auth.ts): no key is trusted until it is fixed; EventBridge retries.
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      throw new HttpError(503, 'unavailable', 'credentials cannot be checked right now; retry later');
    }
    // The dashboard's session cookie: reads, and writes marked for it when sent by the dashboard itself (a header no
    // cross-site form can add). Never the EventBridge route, which keeps header auth only.
    const sessionMay = req.method === 'GET' || req.method === 'HEAD' || (req.routeOptions.config?.session === 'write' && req.headers[DASHBOARD_CLIENT_HEADER] === 'dashboard');
    if (sessions && sessionMay && req.routeOptions.url !== DEFAULT_LISTENER_PATH && sessions.verify(req)) return;
    // The dashboard's fetch() handles a 401 itself: a Basic challenge would make the browser pop its own dialog.
    if (deps.auth.basic && !req.headers[DASHBOARD_CLIENT_HEADER]) reply.header('www-authenticate', 'Basic realm="vidpipe", charset="UTF-8"');
    req.log.warn({ reason: result }, 'rejected: credentials %s', result);
    throw new HttpError(401, 'unauthorized', result === 'missing' ? `credentials required: send the ${header} header${deps.auth.basic ? ' or Basic authorization' : ''}` : 'credentials not accepted');
  });

  app.setErrorHandler((err: FastifyError | HttpError | Error, req, reply) => {
    if (err instanceof StoreUnavailableError) {
      req.log.error({ err }, 'database unavailable');
      return reply
        .code(503)
        .header('retry-after', String(RETRY_AFTER_SECONDS))
        .send({ error: 'unavailable', message: 'the database is busy or unavailable; retry later' });
    }
    if (err instanceof HttpError) return reply.code(err.statusCode).send({ error: err.error, message: err.message });
    const statusCode = (err as FastifyError).statusCode;
    if ((err as FastifyError).validation) return reply.code(400).send({ error: 'bad_request', message: err.message });
    if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
      req.log.warn({ code: (err as FastifyError).code }, 'rejected: %s', err.message);
      const error = statusCode === 413 ? 'payload_too_large' : statusCode === 415 ? 'unsupported_media_type' : 'bad_request';
      const message =
        statusCode === 413
          ? `body is larger than ${BODY_LIMIT_BYTES} bytes (EventBridge's event size limit)`
          : statusCode === 415
            ? 'content-type must be application/json'
            : err.message;
      return reply.code(statusCode).send({ error, message });
    }
    // Internals stay in the log, never in the response.
    req.log.error({ err }, 'internal error');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });

  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  if (deps.endpoint !== false) app.post(DEFAULT_LISTENER_PATH, async (req) => {
    const ingested = await ingestBody(req.body, parseEvent, { store: deps.store }, bodyText.get(req));
    if (!ingested.ok) throw new HttpError(400, 'bad_request', ingested.message);
    const result = ingested.answer;
    // A redelivery answered from its id was not normalised; the live view, when on, still shows what it carries.
    const event = ingested.event ?? (deps.onIngested ? parsedOrUndefined(parseEvent(req.body)) : undefined);
    if (event) deps.onIngested?.(result, event);
    // A redelivery is routine (EventBridge delivers at least once) and the cheapest path to serve: debug level.
    req.log[result.status === 'duplicate' ? 'debug' : 'info'](
      { eventId: result.eventId, jobId: result.jobId, outcome: result.status, jobStatus: event?.detail?.status, source: event?.source },
      'event %s',
      result.status,
    );
    return result;
  });

  app.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok' }));

  // Ready means: a write would commit now, and the notifier still turns. The reason says which part is not.
  app.get('/readyz', { config: { public: true } }, async (_req, reply) => {
    const checks = [() => deps.store.readiness(), ...(deps.readiness ?? [])];
    for (const check of checks) {
      let answer: Readiness;
      try {
        answer = await check();
      } catch (err) {
        answer = { ready: false, reason: (err as Error).message };
      }
      if (!answer.ready) return reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)).send({ status: 'unavailable', reason: answer.reason });
    }
    return { status: 'ready' };
  });

  app.get<{ Querystring: { status?: string; limit?: number; cursor?: string } }>(
    '/api/videos',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { enum: [...JOB_STATES] },
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
            cursor: { type: 'string', maxLength: 512 },
          },
        },
      },
    },
    async (req) => {
      try {
        const { status, limit, cursor } = req.query;
        return await deps.store.listVideos({ limit: limit ?? 50, ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) });
      } catch (err) {
        if (err instanceof BadCursorError) throw new HttpError(400, 'bad_request', `querystring.cursor ${err.message}`);
        throw err;
      }
    },
  );

  app.get<{ Params: { jobId: string } }>('/api/videos/:jobId', async (req) => {
    const video = await deps.store.getJob(req.params.jobId);
    if (!video) throw new HttpError(404, 'not_found', `no video with job id ${req.params.jobId}`);
    const [events, notifications] = await Promise.all([deps.store.listJobEvents(video.jobId), deps.store.notificationsForJob(video.jobId)]);
    return { video, events, notifications };
  });

  app.get<{ Params: { id: string } }>('/api/posts/:id', async (req) => {
    const post = await deps.store.getPost(req.params.id);
    if (!post) throw new HttpError(404, 'not_found', `no post ${req.params.id}`);
    return { post, video: (await deps.store.getJob(post.jobId)) ?? null };
  });

  if (deps.dashboard && sessions)
    app.register(dashboardPlugin, {
      dashboard: deps.dashboard,
      store: () => deps.store,
      authenticate,
      sessions,
      authHeader: header,
      basic: Boolean(deps.auth.basic),
      routes,
    });

  return app;
}

function parsedOrUndefined(parsed: ParsedEvent): NormalisedEvent | undefined {
  return parsed.ok ? parsed.event : undefined;
}
