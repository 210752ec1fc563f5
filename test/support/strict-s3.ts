import { runSimulation, getGrantReasons, type EvaluationResult } from '@cloud-copilot/iam-simulate';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startS3Server, type LocalS3Server } from './s3-server';

/** An IAM policy document as it appears in a template or a policy file. */
export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[];
}
export type PolicyStatement = Record<string, unknown> & { Sid?: string; Effect: 'Allow' | 'Deny' };

export type ContextValues = Record<string, string | string[]>;

/** One IAM authorization S3 performs for a request. */
export interface Authorization {
  /** e.g. `s3:GetObject` */
  action: string;
  /** e.g. `arn:aws:s3:::bucket/runs/r1/status.json` */
  resource: string;
  /** The request's condition context, as real S3 over TLS would supply it. */
  context: ContextValues;
  /** `Unmapped`: this stand-in does not know which action the request needs, so it refuses it. */
  decision: EvaluationResult | 'Unmapped';
  /** Statements that allowed it, as `policyName/Sid` (or `policyName/#index` without a Sid). */
  grantedBy: string[];
}

/** One HTTP request the stand-in answered, with every authorization S3 would have made for it. */
export interface RecordedRequest extends Authorization {
  /** S3 API operation, e.g. `HeadObject`, `UploadPart`. */
  operation: string;
  method: string;
  path: string;
  /** Status sent to the client. */
  status: number;
  /** True when an authorization failed: the client got 403. */
  denied: boolean;
  /**
   * Every authorization in order: the operation's own, a copy's source read, and for a missing key the
   * `s3:ListBucket` that decides between 404 and 403. The top-level fields repeat the first denied one,
   * else the first.
   */
  authorizations: Authorization[];
}

export interface StrictS3Options {
  /** Policies attached to the caller, by name. */
  identityPolicies: Array<{ name: string; policy: PolicyDocument }> | PolicyDocument[];
  /** The bucket's policy. @default none */
  bucketPolicy?: PolicyDocument;
  /** @default 'facepoints-test' */
  bucket?: string;
  /** Account owning the bucket and the caller. @default '111111111111' */
  accountId?: string;
  /** The caller. @default an EC2 instance's session of role `facepoints-caller` in accountId */
  principalArn?: string;
  /** @default 'aws' */
  partition?: string;
  /** Region the SDK is pointed at. @default 'us-east-1' */
  region?: string;
}

export interface StrictS3Server {
  /** The proxy's endpoint, e.g. `http://127.0.0.1:39123`. */
  endpoint: string;
  bucket: string;
  /** Points the AWS SDK at the proxy, like LocalS3Server.env. */
  env: Record<string, string>;
  /** The s3rver behind the proxy: its endpoint and env bypass every policy (for seeding data). */
  upstream: LocalS3Server;
  /** Every request answered so far, in the order they arrived. */
  requests: RecordedRequest[];
  deniedRequests(): RecordedRequest[];
  close(): Promise<void>;
}

/** One line naming a request's authorization, for test failures and reports. */
export function describeAuthorization(a: Authorization): string {
  return `${a.action} on ${a.resource} with context ${JSON.stringify(a.context)}: ${a.decision}`;
}

export function describeRequest(r: RecordedRequest): string {
  return `${r.operation} (${r.method} ${r.path}) -> ${r.status}: ${describeAuthorization(r)}`;
}

type Needed = { action: string; resource: string; context: ContextValues };
/** A mapped request needs at least its operation's own authorization. */
type Mapped = { operation: string; auths: [Needed, ...Needed[]] };

// Query parameters that only shape a listing or a read; any other parameter names a subresource.
const LIST_PARAMS = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'marker',
  'x-id',
]);
const READ_PARAMS = new Set(['versionId', 'partNumber', 'x-id']);

/**
 * The operation and IAM authorizations real S3 makes for a path-style request, per the Service
 * Authorization Reference for Amazon S3 (list_amazons3.html) and the S3 API reference: HeadObject needs
 * s3:GetObject, HeadBucket s3:ListBucket, every multipart step s3:PutObject except Abort and ListParts.
 */
export function mapS3Request(
  method: string,
  url: URL,
  headers: http.IncomingHttpHeaders,
  base: { partition: string; context: ContextValues },
): Mapped | { operation: 'Unmapped'; reason: string } {
  const [, bucket = '', ...rest] = url.pathname.split('/');
  const key = rest.length > 0 ? rest.map(decodeURIComponent).join('/') : undefined;
  const q = url.searchParams;
  const names = [...q.keys()];
  const has = (name: string) => q.has(name);
  const header = (name: string) =>
    typeof headers[name] === 'string' ? (headers[name] as string) : undefined;
  const bucketArn = `arn:${base.partition}:s3:::${decodeURIComponent(bucket)}`;
  const objectArn = `${bucketArn}/${key}`;
  const ctx = (extra: Record<string, string | undefined> = {}): ContextValues => {
    const out: ContextValues = { ...base.context };
    const sha = header('x-amz-content-sha256');
    if (sha) out['s3:x-amz-content-sha256'] = sha;
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) out[k] = v;
    return out;
  };
  const listContext = () =>
    ctx({
      's3:prefix': q.get('prefix') ?? undefined,
      's3:delimiter': q.get('delimiter') ?? undefined,
      's3:max-keys': q.get('max-keys') ?? undefined,
    });
  const writeContext = () =>
    ctx({
      's3:x-amz-acl': header('x-amz-acl'),
      's3:x-amz-server-side-encryption': header('x-amz-server-side-encryption'),
      's3:x-amz-storage-class': header('x-amz-storage-class'),
      's3:x-amz-copy-source': header('x-amz-copy-source'),
      's3:if-none-match': header('if-none-match'),
      's3:if-match': header('if-match'),
    });
  const one = (
    operation: string,
    action: string,
    resource: string,
    context: ContextValues = ctx(),
  ): Mapped => ({ operation, auths: [{ action, resource, context }] });
  const unmapped = (what: string) => ({
    operation: 'Unmapped' as const,
    reason: `${method} ${url.pathname}${url.search}: ${what}`,
  });
  const onlyParams = (allowed: Set<string>, also: string[] = []) =>
    names.every((n) => allowed.has(n) || also.includes(n) || n.startsWith('response-'));
  const copySource = (): { action: string; resource: string; context: ContextValues } | null => {
    const src = header('x-amz-copy-source');
    if (!src) return null;
    const [path, query = ''] = decodeURIComponent(src).replace(/^\//, '').split('?');
    const versioned = new URLSearchParams(query).has('versionId');
    return {
      action: versioned ? 's3:GetObjectVersion' : 's3:GetObject',
      resource: `arn:${base.partition}:s3:::${path}`,
      context: ctx(),
    };
  };

  if (!bucket)
    return method === 'GET'
      ? one('ListBuckets', 's3:ListAllMyBuckets', '*')
      : unmapped('not an S3 operation');
  if (key === undefined || key === '') {
    if (method === 'HEAD') return one('HeadBucket', 's3:ListBucket', bucketArn);
    if (method === 'GET') {
      if (has('location')) return one('GetBucketLocation', 's3:GetBucketLocation', bucketArn);
      if (has('versioning')) return one('GetBucketVersioning', 's3:GetBucketVersioning', bucketArn);
      if (has('uploads'))
        return one('ListMultipartUploads', 's3:ListBucketMultipartUploads', bucketArn, listContext());
      if (has('versions'))
        return one('ListObjectVersions', 's3:ListBucketVersions', bucketArn, listContext());
      if (!onlyParams(LIST_PARAMS))
        return unmapped(`bucket subresource ${names.join(', ')} is not mapped to an IAM action here`);
      return one(
        q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects',
        's3:ListBucket',
        bucketArn,
        listContext(),
      );
    }
    if (method === 'PUT' && names.length === 0) return one('CreateBucket', 's3:CreateBucket', bucketArn);
    if (method === 'DELETE' && names.length === 0) return one('DeleteBucket', 's3:DeleteBucket', bucketArn);
    // DeleteObjects is authorized per key from the XML body; nothing here sends it.
    return unmapped('bucket operation is not mapped to an IAM action here');
  }
  const versioned = has('versionId');
  switch (method) {
    case 'GET':
      if (has('uploadId')) return one('ListParts', 's3:ListMultipartUploadParts', objectArn);
      if (has('tagging'))
        return one(
          'GetObjectTagging',
          versioned ? 's3:GetObjectVersionTagging' : 's3:GetObjectTagging',
          objectArn,
        );
      if (has('acl'))
        return one('GetObjectAcl', versioned ? 's3:GetObjectVersionAcl' : 's3:GetObjectAcl', objectArn);
      if (!onlyParams(READ_PARAMS))
        return unmapped(`object subresource ${names.join(', ')} is not mapped to an IAM action here`);
      return one('GetObject', versioned ? 's3:GetObjectVersion' : 's3:GetObject', objectArn);
    case 'HEAD':
      return one('HeadObject', versioned ? 's3:GetObjectVersion' : 's3:GetObject', objectArn);
    case 'PUT': {
      const source = copySource();
      if (has('uploadId') && has('partNumber')) {
        const part = one(source ? 'UploadPartCopy' : 'UploadPart', 's3:PutObject', objectArn, writeContext());
        if (source) part.auths.push(source);
        return part;
      }
      if (has('tagging'))
        return one(
          'PutObjectTagging',
          versioned ? 's3:PutObjectVersionTagging' : 's3:PutObjectTagging',
          objectArn,
        );
      if (has('acl'))
        return one('PutObjectAcl', versioned ? 's3:PutObjectVersionAcl' : 's3:PutObjectAcl', objectArn);
      if (!onlyParams(new Set(['x-id'])))
        return unmapped(`object subresource ${names.join(', ')} is not mapped to an IAM action here`);
      const put = one(source ? 'CopyObject' : 'PutObject', 's3:PutObject', objectArn, writeContext());
      if (source) put.auths.push(source);
      return put;
    }
    case 'POST':
      if (has('uploads')) return one('CreateMultipartUpload', 's3:PutObject', objectArn, writeContext());
      if (has('uploadId')) return one('CompleteMultipartUpload', 's3:PutObject', objectArn, writeContext());
      return unmapped('object POST is not mapped to an IAM action here');
    case 'DELETE':
      if (has('uploadId')) return one('AbortMultipartUpload', 's3:AbortMultipartUpload', objectArn);
      if (has('tagging'))
        return one(
          'DeleteObjectTagging',
          versioned ? 's3:DeleteObjectVersionTagging' : 's3:DeleteObjectTagging',
          objectArn,
        );
      return one('DeleteObject', versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject', objectArn);
    default:
      return unmapped('method is not an S3 operation');
  }
}

/** Evaluates requests against fixed policies with the IAM simulator; identical questions are answered once. */
export class PolicyEvaluator {
  private readonly cache = new Map<string, Promise<Authorization>>();
  private readonly identityPolicies: Array<{ name: string; policy: PolicyDocument }>;

  constructor(
    identityPolicies: StrictS3Options['identityPolicies'],
    private readonly resourcePolicy: PolicyDocument | undefined,
    private readonly principalArn: string,
    private readonly accountId: string,
  ) {
    this.identityPolicies = identityPolicies.map((p, i) =>
      'Statement' in p ? { name: `policy${i + 1}`, policy: p } : p,
    );
  }

  evaluate(action: string, resource: string, context: ContextValues): Promise<Authorization> {
    const key = JSON.stringify([action, resource, context]);
    let found = this.cache.get(key);
    if (!found) {
      found = this.run(action, resource, context);
      this.cache.set(key, found);
    }
    return found;
  }

  private async run(action: string, resource: string, context: ContextValues): Promise<Authorization> {
    const result = await runSimulation(
      {
        request: {
          principal: this.principalArn,
          action,
          resource: { resource, accountId: this.accountId },
          contextVariables: context,
        },
        identityPolicies: this.identityPolicies,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: this.resourcePolicy,
      },
      { simulationMode: 'Strict' },
    );
    if (result.resultType === 'error') {
      throw new Error(
        `IAM simulator refused ${action} on ${resource}: expected valid policies and request, found ${JSON.stringify(result.errors)}`,
      );
    }
    const analysis = result.resultType === 'single' ? result.result.analysis : result.results[0]?.analysis;
    const grantedBy = analysis
      ? getGrantReasons(analysis).map(
          (g) =>
            `${'policyIdentifier' in g ? g.policyIdentifier : 'bucket-policy'}/${g.statementId ?? `#${g.statementIndex}`}`,
        )
      : [];
    return { action, resource, context, decision: result.overallResult, grantedBy };
  }
}

function accessDeniedXml(a: Authorization, principalArn: string): string {
  const why = a.decision === 'ExplicitlyDenied' ? 'with an explicit deny' : 'because no policy allows it';
  const message =
    a.decision === 'Unmapped'
      ? `the strict S3 stand-in cannot tell which IAM action ${a.resource} needs, so it refuses it`
      : `User: ${principalArn} is not authorized to perform: ${a.action} on resource: "${a.resource}" ${why}`;
  const esc = (s: string) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>${esc(message)}</Message><RequestId>STRICTS3</RequestId><HostId>strict-s3</HostId></Error>`;
}

/**
 * s3rver behind a proxy that authorizes every request the way real S3 would for the given identity and
 * bucket policies: a denied request gets 403 AccessDenied, and an allowed GetObject/HeadObject of a
 * missing key gets 404 only when s3:ListBucket on the bucket is allowed in that request's context.
 */
export async function startStrictS3(opts: StrictS3Options): Promise<StrictS3Server> {
  const accountId = opts.accountId ?? '111111111111';
  const partition = opts.partition ?? 'aws';
  const principalArn =
    opts.principalArn ??
    `arn:${partition}:sts::${accountId}:assumed-role/facepoints-caller/i-0123456789abcdef0`;
  const upstream = await startS3Server({ bucket: opts.bucket });
  const upstreamPort = Number(new URL(upstream.endpoint).port);
  const evaluator = new PolicyEvaluator(opts.identityPolicies, opts.bucketPolicy, principalArn, accountId);
  const agent = new http.Agent({ keepAlive: true });
  const requests: RecordedRequest[] = [];
  const baseContext: ContextValues = {
    // The real SDK talks TLS to S3 while this proxy is plain HTTP on loopback; without this the bucket's
    // "deny unless aws:SecureTransport" statement would refuse everything.
    'aws:SecureTransport': 'true',
    'aws:PrincipalArn': principalArn,
    'aws:PrincipalAccount': accountId,
    's3:ResourceAccount': accountId,
    's3:authType': 'REST-HEADER',
    's3:signatureversion': 'AWS4-HMAC-SHA256',
    's3:TlsVersion': '1.3',
  };

  const record = (
    req: http.IncomingMessage,
    url: URL,
    operation: string,
    auths: Authorization[],
    status: number,
  ) => {
    const failed = auths.find((a) => a.decision !== 'Allowed');
    const main = failed ?? auths[0];
    if (!main) throw new Error(`strict S3: ${operation} ${url.pathname}: no authorization to record`);
    requests.push({
      ...main,
      operation,
      method: req.method ?? '',
      path: url.pathname + url.search,
      status,
      denied: failed !== undefined,
      authorizations: auths,
    });
  };
  const refuse = (req: http.IncomingMessage, res: http.ServerResponse, a: Authorization) => {
    const body = req.method === 'HEAD' ? '' : accessDeniedXml(a, principalArn);
    // Read the body first: answering while the client still sends it would reset the connection.
    req.resume();
    const send = () => {
      res.writeHead(403, {
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(body),
        'x-amz-request-id': 'STRICTS3',
      });
      res.end(body);
    };
    if (req.complete) send();
    else req.on('end', send);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://strict-s3');
    const mapped = mapS3Request(req.method ?? '', url, req.headers, { partition, context: baseContext });
    if (mapped.operation === 'Unmapped') {
      const a: Authorization = {
        action: 'unmapped',
        resource: (mapped as { reason: string }).reason,
        context: {},
        decision: 'Unmapped',
        grantedBy: [],
      };
      record(req, url, 'Unmapped', [a], 403);
      refuse(req, res, a);
      return;
    }
    const { operation, auths } = mapped as Mapped;
    const decided = await Promise.all(auths.map((a) => evaluator.evaluate(a.action, a.resource, a.context)));
    const failed = decided.find((a) => a.decision !== 'Allowed');
    if (failed) {
      record(req, url, operation, decided, 403);
      refuse(req, res, failed);
      return;
    }
    const up = http.request(
      {
        host: '127.0.0.1',
        port: upstreamPort,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (upRes) => {
        void (async () => {
          const status = upRes.statusCode ?? 502;
          if (status === 404 && (operation === 'GetObject' || operation === 'HeadObject')) {
            // S3 API reference, GetObject "Permissions": without s3:ListBucket a missing key is 403, not 404.
            const [{ context, resource }] = auths;
            const bucketArn = resource.slice(0, resource.indexOf('/'));
            const list = await evaluator.evaluate('s3:ListBucket', bucketArn, context);
            if (list.decision !== 'Allowed') {
              upRes.resume();
              record(req, url, operation, [...decided, list], 403);
              refuse(req, res, list);
              return;
            }
            decided.push(list);
          }
          record(req, url, operation, decided, status);
          res.writeHead(status, upRes.headers);
          upRes.pipe(res);
        })().catch((err) => res.destroy(err as Error));
      },
    );
    up.on('error', (err) => res.destroy(err));
    req.pipe(up);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`strict S3 stand-in failed: ${(err as Error).message}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    bucket: upstream.bucket,
    env: { ...upstream.env, AWS_ENDPOINT_URL_S3: endpoint, AWS_REGION: opts.region ?? 'us-east-1' },
    upstream,
    requests,
    deniedRequests: () => requests.filter((r) => r.denied),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
      await upstream.close();
    },
  };
}
