import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnRole, IRole } from 'aws-cdk-lib/aws-iam';
import { BUCKET_NAME_PREFIX, resultsBucketName } from '../../contracts/deployment-names';
import { BASE_CONTEXT, buildApp } from '../lib/stack-fixture';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DATA_FILES, DATA_PREFIX } from '../../contracts/run-layout';
import { localS3Client } from './s3-server';
import { startStrictS3, type PolicyDocument, type PolicyStatement, type StrictS3Server } from './strict-s3';

/** Where the synthesized stacks are evaluated: pseudo parameters become these values. */
export interface DeployTarget {
  accountId: string;
  region: string;
  partition: string;
}

export const TEST_TARGET: DeployTarget = { accountId: '111111111111', region: 'us-east-1', partition: 'aws' };

export interface StackPolicies {
  target: DeployTarget;
  runId: string;
  bucket: string;
  /**
   * The inline policies of the role the trainer runs with (managed policies are not in the template): the
   * training instance role, or with engine=batch the Batch job role.
   */
  instanceRolePolicies: Array<{ name: string; policy: PolicyDocument }>;
  /** engine=batch: the job execution role's inline policies (image pull and container logs). */
  executionRolePolicies?: Array<{ name: string; policy: PolicyDocument }>;
  /** ARNs of the AWS managed policies attached to the role, which cannot be resolved offline. */
  instanceRoleManagedPolicyArns: string[];
  /** The data stack's policy on the results bucket. */
  bucketPolicy: PolicyDocument;
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/**
 * Replaces Ref / Fn::GetAtt / Fn::Join / Fn::Sub in a template value with concrete strings: pseudo
 * parameters from `target`, resource references from `refs` (`Ref`) and `attrs` (`Logical.Attr`).
 * Anything else is an error naming the path, so a new kind of reference cannot slip through unresolved.
 */
export function resolveIntrinsics(
  value: unknown,
  target: DeployTarget,
  refs: Record<string, string>,
  attrs: Record<string, string>,
  where = '$',
): unknown {
  const pseudo: Record<string, string> = {
    'AWS::AccountId': target.accountId,
    'AWS::Region': target.region,
    'AWS::Partition': target.partition,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const ref = (name: string, at: string): string => {
    const v = pseudo[name] ?? refs[name] ?? attrs[name];
    if (v === undefined)
      throw new Error(`${at}: expected a pseudo parameter or a known resource, found a reference to ${name}`);
    return v;
  };
  if (Array.isArray(value))
    return value.map((v, i) => resolveIntrinsics(v, target, refs, attrs, `${where}[${i}]`));
  if (!value || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  if ('Ref' in obj) return ref(String(obj.Ref), where);
  if ('Fn::GetAtt' in obj) {
    const [id, attr] = obj['Fn::GetAtt'] as [string, string];
    return ref(`${id}.${attr}`, where);
  }
  if ('Fn::Join' in obj) {
    const [sep, parts] = obj['Fn::Join'] as [string, unknown[]];
    return parts
      .map((p, i) => String(resolveIntrinsics(p, target, refs, attrs, `${where}.Fn::Join[${i}]`)))
      .join(sep);
  }
  if ('Fn::Sub' in obj && typeof obj['Fn::Sub'] === 'string') {
    return obj['Fn::Sub'].replace(/\$\{([^}]+)\}/g, (_, name: string) => ref(name, `${where}.Fn::Sub`));
  }
  const fn = Object.keys(obj).find((k) => k.startsWith('Fn::'));
  if (fn) throw new Error(`${where}: expected Ref, Fn::GetAtt, Fn::Join or Fn::Sub, found ${fn}`);
  return Object.fromEntries(
    Object.entries(obj).map(([k, v]) => [k, resolveIntrinsics(v, target, refs, attrs, `${where}.${k}`)]),
  );
}

/**
 * Synthesizes both stacks as `npx cdk synth -c runId=RUN` would (context from the stack fixture) and
 * returns the training instance role's policies and the bucket policy with every ARN resolved for
 * `target`.
 */
export function synthesizedPolicies(
  opts: { runId?: string; target?: DeployTarget; context?: Record<string, string> } = {},
): StackPolicies {
  const target = opts.target ?? TEST_TARGET;
  const runId = opts.runId ?? BASE_CONTEXT.runId;
  const built = buildApp({ ...BASE_CONTEXT, ...opts.context, runId });
  const bucket = resultsBucketName(target.accountId, target.region);

  const data = Template.fromStack(built.data).toJSON().Resources as Resources;
  const buckets = Object.entries(data).filter(([, r]) => r.Type === 'AWS::S3::Bucket');
  const [onlyBucket] = buckets;
  if (buckets.length !== 1 || !onlyBucket)
    throw new Error(`stack ${built.data.stackName}: expected one AWS::S3::Bucket, found ${buckets.length}`);
  const [bucketId, bucketResource] = onlyBucket;
  const props = bucketResource.Properties ?? {};
  // The bucket's own name settings must agree with resultsBucketName, which the training stack uses.
  const declared =
    props.BucketName !== undefined
      ? resolveIntrinsics(props.BucketName, target, {}, {}, `${bucketId}.BucketName`)
      : props.BucketNamespace === 'account-regional'
        ? resultsBucketName(target.accountId, target.region)
        : undefined;
  if (
    declared !== bucket ||
    (props.BucketNamePrefix !== undefined && props.BucketNamePrefix !== BUCKET_NAME_PREFIX)
  ) {
    throw new Error(
      `${built.data.stackName}/${bucketId}: expected bucket ${bucket} (resultsBucketName), found ${JSON.stringify({ BucketName: props.BucketName, BucketNamePrefix: props.BucketNamePrefix, BucketNamespace: props.BucketNamespace })}`,
    );
  }
  const bucketRefs = { [bucketId]: bucket };
  const bucketAttrs = { [`${bucketId}.Arn`]: `arn:${target.partition}:s3:::${bucket}` };
  const bucketPolicies = Object.entries(data).filter(([, r]) => r.Type === 'AWS::S3::BucketPolicy');
  const [onlyBucketPolicy] = bucketPolicies;
  if (bucketPolicies.length !== 1 || !onlyBucketPolicy)
    throw new Error(
      `stack ${built.data.stackName}: expected one AWS::S3::BucketPolicy, found ${bucketPolicies.length}`,
    );
  const [bucketPolicyId, bucketPolicyResource] = onlyBucketPolicy;
  const bucketPolicy = resolveIntrinsics(
    bucketPolicyResource.Properties?.PolicyDocument,
    target,
    bucketRefs,
    bucketAttrs,
    bucketPolicyId,
  ) as PolicyDocument;

  const training = Template.fromStack(built.training).toJSON().Resources as Resources;
  const policiesOf = (role: IRole) => {
    const roleId = Stack.of(role).getLogicalId(role.node.defaultChild as CfnRole);
    const roleRefs = { [roleId]: `facepoints-instance-role` };
    const found = Object.entries(training)
      .filter(
        ([, r]) =>
          r.Type === 'AWS::IAM::Policy' &&
          JSON.stringify(r.Properties?.Roles ?? []).includes(`"Ref":"${roleId}"`),
      )
      .map(([id, r]) => ({
        name: id,
        policy: resolveIntrinsics(r.Properties?.PolicyDocument, target, roleRefs, {}, id) as PolicyDocument,
      }));
    if (found.length === 0)
      throw new Error(
        `stack ${built.training.stackName}: expected an AWS::IAM::Policy on role ${roleId}, found none`,
      );
    return { roleId, found };
  };
  const { roleId, found: instanceRolePolicies } = policiesOf(built.training.role);
  const executionRole = built.training.batch?.job.container.executionRole;
  const executionRolePolicies = executionRole ? policiesOf(executionRole).found : undefined;
  const role = training[roleId];
  if (!role)
    throw new Error(`stack ${built.training.stackName}: expected the instance role ${roleId}, found none`);
  const managed = (role.Properties?.ManagedPolicyArns ?? []) as unknown[];
  const instanceRoleManagedPolicyArns = managed.map((m, i) =>
    String(resolveIntrinsics(m, target, {}, {}, `${roleId}.ManagedPolicyArns[${i}]`)),
  );
  return {
    target,
    runId,
    bucket,
    instanceRolePolicies,
    executionRolePolicies,
    instanceRoleManagedPolicyArns,
    bucketPolicy,
  };
}

/** The statements of all policies, with the policy each came from. */
export function statementsOf(
  policies: Array<{ name: string; policy: PolicyDocument }>,
): Array<{ policy: string; statement: PolicyStatement; index: number }> {
  return policies.flatMap((p) =>
    p.policy.Statement.map((statement, i) => ({ policy: p.name, statement, index: i + 1 })),
  );
}

/**
 * A strict S3 that authorizes like real S3 with `identityPolicies` (default: the training role's) and the
 * bucket policy, holding the Kaggle files of `dataDir` under data/, written past the policies as the
 * user's upload is.
 */
export async function startTrainingRoleS3(
  policies: StackPolicies,
  dataDir: string,
  identityPolicies: StackPolicies['instanceRolePolicies'] = policies.instanceRolePolicies,
): Promise<StrictS3Server> {
  const s3 = await startStrictS3({
    identityPolicies,
    bucketPolicy: policies.bucketPolicy,
    bucket: policies.bucket,
    accountId: policies.target.accountId,
  });
  const admin = localS3Client(s3.upstream.endpoint);
  try {
    for (const name of Object.values(DATA_FILES)) {
      await admin.send(
        new PutObjectCommand({
          Bucket: s3.bucket,
          Key: `${DATA_PREFIX}${name}`,
          Body: await fs.readFile(path.join(dataDir, name)),
        }),
      );
    }
  } finally {
    admin.destroy();
  }
  return s3;
}
