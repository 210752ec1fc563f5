import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TRAINING_LOG_GROUP } from '../../contracts/deployment-names';
import { DATA_PREFIX, RUNS_PREFIX } from '../../contracts/run-layout';
import { EXIT_INTERRUPTED } from '../../contracts/run-status';
import {
  startTrainingRoleS3,
  statementsOf,
  synthesizedPolicies,
  type StackPolicies,
} from '../support/stack-policies';
import {
  describeRequest,
  PolicyEvaluator,
  type PolicyDocument,
  type RecordedRequest,
  type StrictS3Server,
} from '../support/strict-s3';
import { at } from '../support/checked';

/**
 * The trainer as the instance runs it (`--data s3://BUCKET/data/ --out s3://BUCKET/runs --run ID`)
 * against an S3 that authorizes every request with the training role's synthesized policies and the
 * bucket policy, as real S3 would: a fresh run with the data download, an interrupted run's resume, and
 * proof that the check fails when a needed statement is missing.
 */
const ROOT = path.resolve(__dirname, '../..');
// node with tsx's loader, not the tsx wrapper: SIGTERM must reach the trainer itself.
const NODE_TSX = [
  process.execPath,
  '--import',
  pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href,
] as const;
const CLI = path.join(ROOT, 'cli/main.ts');
const RUN_ID = 'iam-check';
// A 1024-unit MLP on the quick preset's 48x48 input: its weights (9.4 MB) exceed the 8 MiB part size, so
// checkpoints go up as multipart uploads.
const TRAIN_ARGS = [
  '--preset',
  'quick',
  '--models',
  'mlp',
  '--seed',
  '3',
  '--set',
  'mlpHidden=1024',
  '--set',
  'mlp.maxEpochs=6',
  '--set',
  'checkpointEveryEpochs=1',
];

let policies: StackPolicies;
let work: string;
let dataDir: string;

interface Trained {
  code: number | null;
  output: string;
}

/** `facepoints train` in a child process with `cwd` as its scratch folder (the data cache); SIGTERM once `stopAt` is printed. */
function train(s3: StrictS3Server, cwd: string, stopAt?: RegExp): Promise<Trained> {
  const child = spawn(
    NODE_TSX[0],
    [
      ...NODE_TSX.slice(1),
      CLI,
      'train',
      '--data',
      `s3://${s3.bucket}/${DATA_PREFIX}`,
      '--out',
      `s3://${s3.bucket}/${RUNS_PREFIX.replace(/\/$/, '')}`,
      '--run',
      RUN_ID,
      ...TRAIN_ARGS,
    ],
    {
      cwd,
      env: { ...process.env, ...s3.env, FACEPOINTS_ON_EC2: '0', FACEPOINTS_SCRATCH_DIR: cwd },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  let stopped = false;
  const onData = (d: Buffer) => {
    output += d.toString();
    if (stopAt && !stopped && stopAt.test(output)) {
      stopped = true;
      child.kill('SIGTERM');
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

/** The role's policies with one statement changed (by Sid): `replace` returns the new one, or null to drop it. */
function withStatement(
  sid: string,
  replace: (s: PolicyDocument['Statement'][number]) => PolicyDocument['Statement'][number] | null,
): StackPolicies['instanceRolePolicies'] {
  let found = false;
  const edited = policies.instanceRolePolicies.map((p) => ({
    name: p.name,
    policy: {
      ...p.policy,
      Statement: p.policy.Statement.flatMap((s) => {
        if (s.Sid !== sid) return [s];
        found = true;
        const r = replace(s);
        return r ? [r] : [];
      }),
    },
  }));
  if (!found)
    throw new Error(
      `expected a statement with Sid ${sid} in the training role's policies, found ${statementsOf(
        policies.instanceRolePolicies,
      )
        .map((s) => s.statement.Sid ?? `#${s.index}`)
        .join(', ')}`,
    );
  return edited;
}

function deniedReport(requests: RecordedRequest[]): string {
  return requests
    .filter((r) => r.denied)
    .map(describeRequest)
    .join('\n');
}

const actionsOf = (s: Record<string, unknown>): string[] => [s.Action ?? []].flat() as string[];

/** The instance's AWS calls outside the trainer (image pull, container logs, the boot script's failure report). */
function instanceCalls(): Array<[string, string, string, Record<string, string>]> {
  const { accountId, region, partition } = policies.target;
  const bucketArn = `arn:${partition}:s3:::${policies.bucket}`;
  const logGroup = `arn:${partition}:logs:${region}:${accountId}:log-group:${TRAINING_LOG_GROUP}`;
  // The CDK bootstrap's asset repository, where the trainer image is pushed at deploy.
  const repository = `arn:${partition}:ecr:${region}:${accountId}:repository/cdk-hnb659fds-container-assets-${accountId}-${region}`;
  const tls = { 'aws:SecureTransport': 'true' };
  return [
    ['aws ecr get-login-password', 'ecr:GetAuthorizationToken', '*', tls],
    ['docker pull (manifest)', 'ecr:BatchGetImage', repository, tls],
    ['docker pull (layers)', 'ecr:GetDownloadUrlForLayer', repository, tls],
    ['docker awslogs driver', 'logs:CreateLogStream', `${logGroup}:log-stream:${RUN_ID}/attempt-1`, tls],
    ['docker awslogs driver', 'logs:PutLogEvents', `${logGroup}:log-stream:${RUN_ID}/attempt-1`, tls],
    [
      'boot failure: aws logs create-log-stream',
      'logs:CreateLogStream',
      `${logGroup}:log-stream:${RUN_ID}/boot-20261202T120000Z`,
      tls,
    ],
    [
      'boot failure: aws logs put-log-events',
      'logs:PutLogEvents',
      `${logGroup}:log-stream:${RUN_ID}/boot-20261202T120000Z`,
      tls,
    ],
    [
      'boot failure: aws s3 cp - .../status.json',
      's3:PutObject',
      `${bucketArn}/${RUNS_PREFIX}${RUN_ID}/status.json`,
      tls,
    ],
    [
      'jupyter: aws s3 sync (listing)',
      's3:ListBucket',
      bucketArn,
      { ...tls, 's3:prefix': `${RUNS_PREFIX}${RUN_ID}/` },
    ],
    [
      'jupyter: aws s3 sync (copy)',
      's3:GetObject',
      `${bucketArn}/${RUNS_PREFIX}${RUN_ID}/report/report.md`,
      tls,
    ],
  ];
}

beforeAll(async () => {
  policies = synthesizedPolicies({ runId: RUN_ID });
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-iam-'));
  dataDir = path.join(work, 'data');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      NODE_TSX[0],
      [...NODE_TSX.slice(1), CLI, 'sample', '--out', dataDir, '--rows', '120', '--test-rows', '20'],
      { cwd: work, stdio: 'ignore' },
    );
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`facepoints sample: expected exit 0, found ${code}`)),
    );
  });
}, 120_000);

afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

test('the synthesized training role and bucket policy allow every request of a fresh run, its data download and its resume', async () => {
  const s3 = await startTrainingRoleS3(policies, dataDir);
  try {
    const cwd = await fs.mkdtemp(path.join(work, 'instance-'));
    const first = await train(s3, cwd, /mlp: epoch 3\//);
    expect({ code: first.code, denied: deniedReport(s3.requests) }).toEqual({
      code: EXIT_INTERRUPTED,
      denied: '',
    });
    const resumed = await train(s3, cwd);
    expect({ code: resumed.code, denied: deniedReport(s3.requests) }).toEqual({ code: 0, denied: '' });
    expect(resumed.output).toMatch(new RegExp(`run ${RUN_ID} succeeded`));

    const ops = new Set(s3.requests.map((r) => r.operation));
    // What the flows must have exercised for this check to mean anything.
    for (const op of [
      'HeadObject',
      'GetObject',
      'ListObjectsV2',
      'PutObject',
      'CreateMultipartUpload',
      'UploadPart',
      'CompleteMultipartUpload',
      'DeleteObject',
    ])
      expect(ops).toContain(op);
    // A fresh run reads keys that do not exist yet: only ListBucket on the bucket makes those 404s.
    expect(
      s3.requests.some((r) => r.status === 404 && r.authorizations.some((a) => a.action === 's3:ListBucket')),
    ).toBe(true);

    // Granted actions no request used: printed for review, since some serve only failure paths.
    const unused: string[] = [];
    for (const { policy, statement, index } of statementsOf(policies.instanceRolePolicies)) {
      if (statement.Effect !== 'Allow') continue;
      const id = `${policy}/${statement.Sid ?? `#${index}`}`;
      for (const action of actionsOf(statement)) {
        if (!action.startsWith('s3:')) {
          if (!instanceCalls().some((c) => c[1] === action))
            unused.push(`${action} (${id}): granted, used by none of the instance's calls`);
          continue;
        }
        const used = s3.requests.some((r) =>
          r.authorizations.some((a) => a.action === action && a.grantedBy.includes(id)),
        );
        if (!used) unused.push(`${action} (${id}): granted, used by no request of these flows`);
      }
    }
    for (const arn of policies.instanceRoleManagedPolicyArns)
      unused.push(`${arn}: managed policy, not resolvable offline`);
    console.log(
      `training role permissions that no call used (${s3.requests.length} S3 requests of a run, ${instanceCalls().length} instance calls):\n  ${unused.join('\n  ')}`,
    );
  } finally {
    await s3.close();
  }
}, 600_000);

test('without the ReadWriteThisRun statement the run is refused, and the denied request is named', async () => {
  const s3 = await startTrainingRoleS3(
    policies,
    dataDir,
    withStatement('ReadWriteThisRun', () => null),
  );
  try {
    const run = await train(s3, await fs.mkdtemp(path.join(work, 'no-run-access-')));
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBe(EXIT_INTERRUPTED);
    const denied = s3.deniedRequests();
    expect(denied[0]).toEqual(
      expect.objectContaining({
        action: expect.stringMatching(/^s3:(GetObject|PutObject)$/),
        resource: expect.stringContaining(`:::${policies.bucket}/${RUNS_PREFIX}${RUN_ID}/`),
        decision: 'ImplicitlyDenied',
        status: 403,
      }),
    );
    expect(run.output).toMatch(/AccessDenied/);
  } finally {
    await s3.close();
  }
}, 300_000);

test('with the old prefix-conditioned ListBucket a fresh run fails at its first read of a missing key', async () => {
  const prefixes = [DATA_PREFIX, `${DATA_PREFIX}*`, `${RUNS_PREFIX}${RUN_ID}/`, `${RUNS_PREFIX}${RUN_ID}/*`];
  const s3 = await startTrainingRoleS3(
    policies,
    dataDir,
    withStatement('ListBucket', (s) => ({ ...s, Condition: { StringLike: { 's3:prefix': prefixes } } })),
  );
  try {
    const run = await train(s3, await fs.mkdtemp(path.join(work, 'prefix-list-')));
    expect(run.code).not.toBe(0);
    const first = at(s3.deniedRequests(), 0, 'a denied request');
    expect(first).toEqual(
      expect.objectContaining({
        operation: expect.stringMatching(/^(GetObject|HeadObject)$/),
        action: 's3:ListBucket',
        decision: 'ImplicitlyDenied',
        status: 403,
      }),
    );
    // The read itself was allowed; only the 404 needed a ListBucket that the prefix condition cannot match.
    expect(first.authorizations[0]).toEqual(
      expect.objectContaining({ action: 's3:GetObject', decision: 'Allowed' }),
    );
    expect(first.context['s3:prefix']).toBeUndefined();
    expect(run.output).toMatch(/AccessDenied|403/);
  } finally {
    await s3.close();
  }
}, 300_000);

test("the instance's own AWS calls outside the trainer are allowed: image pull, container logs, the boot script's failure report", async () => {
  const { accountId, partition } = policies.target;
  const evaluator = new PolicyEvaluator(
    policies.instanceRolePolicies,
    policies.bucketPolicy,
    `arn:${partition}:sts::${accountId}:assumed-role/facepoints-instance-role/i-0abc`,
    accountId,
  );
  const refused: string[] = [];
  for (const [what, action, resource, context] of instanceCalls()) {
    const a = await evaluator.evaluate(action, resource, context);
    if (a.decision !== 'Allowed') refused.push(`${what}: ${action} on ${resource}: ${a.decision}`);
  }
  expect(refused).toEqual([]);
});

test('with engine=batch the job role allows every request of a fresh run and its resume, and the execution role pulls the image and writes the container log', async () => {
  const batch = synthesizedPolicies({ runId: RUN_ID, context: { engine: 'batch' } });
  const s3 = await startTrainingRoleS3(batch, dataDir);
  try {
    const cwd = await fs.mkdtemp(path.join(work, 'batch-job-'));
    // A spot reclaim stops the job's container with SIGTERM; the retried attempt resumes in a fresh one.
    const first = await train(s3, cwd, /mlp: epoch 3\//);
    expect({ code: first.code, denied: deniedReport(s3.requests) }).toEqual({
      code: EXIT_INTERRUPTED,
      denied: '',
    });
    const resumed = await train(s3, await fs.mkdtemp(path.join(work, 'batch-retry-')));
    expect({ code: resumed.code, denied: deniedReport(s3.requests) }).toEqual({ code: 0, denied: '' });
    expect(resumed.output).toMatch(new RegExp(`run ${RUN_ID} succeeded`));
  } finally {
    await s3.close();
  }

  const { accountId, region, partition } = batch.target;
  const executionRole = batch.executionRolePolicies;
  if (!executionRole)
    throw new Error('expected the job execution role in the engine=batch stack, found none');
  const evaluator = new PolicyEvaluator(
    executionRole,
    batch.bucketPolicy,
    `arn:${partition}:sts::${accountId}:assumed-role/facepoints-execution-role/ecs-task`,
    accountId,
  );
  const logGroup = `arn:${partition}:logs:${region}:${accountId}:log-group:${TRAINING_LOG_GROUP}`;
  const repository = `arn:${partition}:ecr:${region}:${accountId}:repository/cdk-hnb659fds-container-assets-${accountId}-${region}`;
  // awslogs names a Batch job's stream <prefix>/<container>/<task id>; Batch's container is "default".
  const stream = `${logGroup}:log-stream:${RUN_ID}/default/0123456789abcdef0123456789abcdef`;
  const tls = { 'aws:SecureTransport': 'true' };
  const calls: Array<[string, string]> = [
    ['ecr:GetAuthorizationToken', '*'],
    ['ecr:BatchGetImage', repository],
    ['ecr:GetDownloadUrlForLayer', repository],
    ['logs:CreateLogStream', stream],
    ['logs:PutLogEvents', stream],
  ];
  const refused: string[] = [];
  for (const [action, resource] of calls) {
    const a = await evaluator.evaluate(action, resource, tls);
    if (a.decision !== 'Allowed') refused.push(`${action} on ${resource}: ${a.decision}`);
  }
  expect(refused).toEqual([]);
  // And nothing of the bucket: the trainer's S3 access belongs to the job role alone.
  const bucketRead = await evaluator.evaluate(
    's3:GetObject',
    `arn:${partition}:s3:::${batch.bucket}/${DATA_PREFIX}training.csv`,
    tls,
  );
  expect(bucketRead.decision).not.toBe('Allowed');
}, 600_000);
