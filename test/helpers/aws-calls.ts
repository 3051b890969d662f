/**
 * Classifies the requests moto recorded (and the MediaConvert fake received) as reads or writes, to assert that a
 * command made no mutating AWS call. Covers the protocols vidpipe's clients use: AWS JSON (X-Amz-Target), query
 * (Action=…), Smithy RPC v2 CBOR (/service/…/operation/<Op>), and REST (S3, MediaConvert: the HTTP method).
 */
import type { Moto } from './moto.js';
import type { MediaConvertFake } from './mediaconvert-fake.js';

export interface AwsRequest {
  operation: string;
  mutating: boolean;
}

const READ = /^(Get|Describe|List|Head)/;

export function classifyRecorded(r: ReturnType<Moto['recordedRequests']>[number]): AwsRequest {
  const op = r.target?.split('.').pop() ?? r.action ?? /\/operation\/(\w+)$/.exec(r.path)?.[1];
  if (op) return { operation: op, mutating: !READ.test(op) };
  // REST (S3): reads are GET and HEAD.
  return { operation: `${r.method} ${r.path}`, mutating: r.method !== 'GET' && r.method !== 'HEAD' };
}

export function awsRequests(moto: Moto, fake?: MediaConvertFake): AwsRequest[] {
  return [
    ...moto.recordedRequests().map(classifyRecorded),
    ...(fake?.requests ?? []).map((r) => ({ operation: r.operation, mutating: r.method !== 'GET' })),
  ];
}
