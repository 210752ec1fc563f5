import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { RUNS_PREFIX } from '../../contracts/run-layout';
import { BUCKET_NAME_PREFIX } from '../../contracts/deployment-names';

export interface ResultsBucketProps {
  /** Days an overwritten or deleted object version under runs/ is kept (old checkpoints). @default 7 */
  readonly noncurrentVersionDays?: number;
}

/** The bucket holding the Kaggle data and every run's results; it outlives `cdk destroy`. */
export class ResultsBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ResultsBucketProps = {}) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketNamePrefix: BUCKET_NAME_PREFIX,
      bucketNamespace: s3.BucketNamespace.ACCOUNT_REGIONAL,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-old-checkpoint-versions',
          prefix: RUNS_PREFIX,
          // Versioning guards results against a bad overwrite; old checkpoint versions only cost storage.
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays ?? 7),
          expiredObjectDeleteMarker: true,
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(2) },
      ],
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'A single-user results bucket written only by the training role; CloudTrail covers API access and a second log bucket would cost more than it tells.',
    });
  }
}
