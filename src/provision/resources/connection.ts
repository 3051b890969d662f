/**
 * The EventBridge connection: how EventBridge authenticates to the listener. API_KEY sends `<authHeader>: <key>`,
 * BASIC sends `Authorization: Basic …`. The credential comes from (or is generated into) the local secrets file that
 * `vidpipe listen` reads; `setup --rotate-key` puts a new key in front of the old one there (the listener accepts
 * both) and then gives the new one to the connection.
 *
 * AWS never returns a connection's secret (moto does; vidpipe ignores it), so drift is decided from what
 * DescribeConnection shows (auth type, header name) and a local marker: a fingerprint (SHA-256 prefix) of the
 * credential setup last sent, kept in .vidpipe/provision-state.json. No secret is in the marker.
 */
import { change, type Difference } from '../diff.js';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { usesApiDestination } from '../../config/config.js';
import { readSecrets, rotateApiKey, writeSecrets } from '../../config/secrets.js';
import type { ProvisionEnv, ResourceModule } from '../types.js';
import { call, deleteIfExists, readOrUndefined } from './common.js';

type AuthType = 'API_KEY' | 'BASIC';

interface ConnectionDesired {
  name: string;
  authType: AuthType;
  header: string;
  rotate: boolean;
}

interface ConnectionObserved {
  arn: string;
  authType?: string;
  header?: string;
  state?: string;
  /** The fingerprint setup recorded when it last wrote the credential (undefined: unknown here). */
  sentFingerprint?: string;
  /** The fingerprint of the credential the local secrets file holds now. */
  localFingerprint?: string;
}

interface Marker {
  connection?: { name: string; arn: string; authType: string; header: string; fingerprint: string };
}

export function fingerprint(authType: string, credential: string): string {
  return createHash('sha256').update(`${authType}\0${credential}`).digest('hex').slice(0, 16);
}

function readMarker(file: string): Marker {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Marker;
  } catch {
    return {};
  }
}

function writeMarker(file: string, marker: Marker): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(marker, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/** The credential the local secrets file holds for this auth type, if any. */
function localCredential(env: ProvisionEnv, authType: AuthType): string | undefined {
  const secrets = readSecrets(env.secretsFile);
  return authType === 'API_KEY' ? secrets?.apiKeys[0] : secrets?.basicAuth;
}

/** The credential to send: the local one, or a new one from the CSPRNG (saved first, so the listener knows it). */
function credentialToSend(env: ProvisionEnv, authType: AuthType, rotate: boolean): string {
  const existing = localCredential(env, authType);
  if (authType === 'API_KEY') return rotate || !existing ? rotateApiKey(env.secretsFile).key : existing;
  if (existing && !rotate) return existing;
  const basicAuth = `vidpipe:${randomBytes(24).toString('base64url')}`;
  writeSecrets(env.secretsFile, { ...(readSecrets(env.secretsFile) ?? { apiKeys: [] }), basicAuth });
  return basicAuth;
}

function authParameters(authType: AuthType, header: string, credential: string) {
  if (authType === 'API_KEY') return { ApiKeyAuthParameters: { ApiKeyName: header, ApiKeyValue: credential } };
  const colon = credential.indexOf(':');
  return { BasicAuthParameters: { Username: credential.slice(0, colon), Password: credential.slice(colon + 1) } };
}

export const connection: ResourceModule<ConnectionDesired, ConnectionObserved> = {
  id: 'connection',
  kind: 'EventBridge connection',
  dependsOn: [],
  name: (env) => env.names.connection,
  // Only the API destination uses the connection: SQS delivery alone has none.
  desired: (env) =>
    usesApiDestination(env.config)
      ? { name: env.names.connection, authType: env.config.listener.auth, header: env.config.listener.authHeader, rotate: env.rotateKey }
      : undefined,

  async observe(aws, env) {
    const Name = env.names.connection;
    const eb = await aws.eventbridge();
    const m = await import('@aws-sdk/client-eventbridge');
    const out = await readOrUndefined('events:DescribeConnection', Name, () => eb.send(new m.DescribeConnectionCommand({ Name })));
    if (!out) return undefined;
    const marker = readMarker(env.stateFile).connection;
    const authType = out.AuthorizationType as AuthType | undefined;
    const local = authType === 'API_KEY' || authType === 'BASIC' ? localCredential(env, authType) : undefined;
    return {
      arn: out.ConnectionArn!,
      authType,
      header: out.AuthParameters?.ApiKeyAuthParameters?.ApiKeyName,
      state: out.ConnectionState,
      ...(marker && marker.arn === out.ConnectionArn ? { sentFingerprint: marker.fingerprint } : {}),
      ...(local && authType ? { localFingerprint: fingerprint(authType, local) } : {}),
    };
  },

  diff(d, o) {
    const reasons: Difference[] = [];
    if (o.authType !== d.authType) return [change('AuthorizationType', o.authType, d.authType)];
    if (d.authType === 'API_KEY' && o.header !== d.header) reasons.push(change('ApiKeyName', o.header, d.header));
    if (!o.localFingerprint) reasons.push('no credential in the local secrets file');
    else if (!o.sentFingerprint) reasons.push('its credential is not known to match the local secrets file');
    else if (o.sentFingerprint !== o.localFingerprint) reasons.push('the local credential changed');
    if (d.rotate) reasons.push('key rotation requested');
    return reasons;
  },

  async apply(aws, d, o, _w, env) {
    const eb = await aws.eventbridge();
    const m = await import('@aws-sdk/client-eventbridge');
    // A rotation with no connection yet is just a first key.
    const credential = credentialToSend(env, d.authType, d.rotate && o !== undefined);
    const input = {
      Name: d.name,
      AuthorizationType: d.authType,
      AuthParameters: authParameters(d.authType, d.header, credential),
    };
    const out = o
      ? await call('events:UpdateConnection', d.name, () => eb.send(new m.UpdateConnectionCommand(input)))
      : await call('events:CreateConnection', d.name, () =>
          eb.send(new m.CreateConnectionCommand({ ...input, Description: `vidpipe (${env.config.app}): authenticates EventBridge to the listener` })),
        );
    const arn = out.ConnectionArn ?? o?.arn;
    const print = fingerprint(d.authType, credential);
    writeMarker(env.stateFile, { ...readMarker(env.stateFile), connection: { name: d.name, arn: arn!, authType: d.authType, header: d.header, fingerprint: print } });
    return { arn: arn!, authType: d.authType, header: d.header, state: out.ConnectionState, sentFingerprint: print, localFingerprint: print };
  },

  async destroy(aws, _o, env) {
    const Name = env.names.connection;
    const eb = await aws.eventbridge();
    const m = await import('@aws-sdk/client-eventbridge');
    // Deleting the connection also deletes the Secrets Manager secret EventBridge keeps its credential in.
    await deleteIfExists('events:DeleteConnection', Name, () => eb.send(new m.DeleteConnectionCommand({ Name })));
    const marker = readMarker(env.stateFile);
    if (marker.connection) {
      delete marker.connection;
      if (Object.keys(marker).length) writeMarker(env.stateFile, marker);
      else rmSync(env.stateFile, { force: true });
    }
  },

  details: (o) => ({ state: o.state ?? 'unknown', auth: o.authType ?? 'unknown' }),
};
