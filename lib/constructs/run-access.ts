import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { TRAINING_LOG_GROUP, resultsBucketName } from '../../contracts/deployment-names';
import { DATA_PREFIX } from '../../contracts/run-layout';

/**
 * What the trainer may do in the bucket, whichever engine runs it: read the shared data, read and write
 * its own run's directory, nothing else. One definition for the instance role and the Batch job role.
 */
export function grantRunAccess(role: iam.Role, bucket: s3.IBucket, runPrefix: string): void {
  // Unconditional on this single-purpose bucket: S3 answers a read of a missing key with 404 only to a
  // caller that may ListBucket in that request's context, and a GetObject carries no s3:prefix, so a
  // prefix-conditioned grant turns every "not there yet" into 403 AccessDenied. Listing shows key
  // names of other runs, never their contents.
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'ListBucket',
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'ReadData',
      actions: ['s3:GetObject'],
      resources: [bucket.arnForObjects(`${DATA_PREFIX}*`)],
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'ReadWriteThisRun',
      actions: [
        's3:GetObject',
        's3:PutObject',
        's3:DeleteObject',
        's3:AbortMultipartUpload',
        's3:ListMultipartUploadParts',
      ],
      resources: [bucket.arnForObjects(`${runPrefix}*`)],
    }),
  );
}

/** The cdk-nag findings that grantRunAccess (and a write grant on the trainer's log group) cause, with their reasons. */
export function acknowledgeRunAccess(role: iam.IRole, runPrefix: string, logs: boolean): void {
  const bucketArn = `arn:<AWS::Partition>:s3:::${resultsBucketName('<AWS::AccountId>', '<AWS::Region>')}`;
  Validations.of(role).acknowledge(
    {
      id: `AwsSolutions-IAM5[Resource::${bucketArn}/${DATA_PREFIX}*]`,
      reason: 'Read-only access to the shared data prefix: the trainer reads the Kaggle files in it.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::${bucketArn}/${runPrefix}*]`,
      reason:
        "Read and write access to this run's own directory only: checkpoints, models, metrics and the report.",
    },
    ...(logs
      ? [
          {
            id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${TRAINING_LOG_GROUP}:*]`,
            reason:
              "Log streams of the trainer's own log group only: one stream per run attempt, named at run time.",
          },
        ]
      : []),
  );
}
