import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { REQUIRED_BOOTSTRAP_VERSION, getBootstrapStack } from '../../../ops/aws/bootstrap-stack';

const cfn = mockClient(CloudFormationClient);
const client = new CloudFormationClient({ region: 'eu-west-1' });
const noWait = { sleep: async () => {} };

function cfnError(name: string, message: string) {
  return new CloudFormationServiceException({
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message,
  });
}

beforeEach(() => cfn.reset());

test('the version output of the bootstrap stack (DescribeStacks response shape of CDKToolkit)', async () => {
  cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).resolves({
    Stacks: [
      {
        StackId:
          'arn:aws:cloudformation:eu-west-1:123456789012:stack/CDKToolkit/5c5fd1a0-6a0e-11ef-9a1c-0a3b1c2d3e4f',
        StackName: 'CDKToolkit',
        Description: 'This stack includes resources needed to deploy AWS CDK apps into this environment',
        CreationTime: new Date('2026-01-05T10:00:00Z'),
        LastUpdatedTime: new Date('2026-06-01T10:00:00Z'),
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: [
          { OutputKey: 'BucketName', OutputValue: 'cdk-hnb659fds-assets-123456789012-eu-west-1' },
          {
            OutputKey: 'BucketDomainName',
            OutputValue: 'cdk-hnb659fds-assets-123456789012-eu-west-1.s3.eu-west-1.amazonaws.com',
          },
          {
            OutputKey: 'ImageRepositoryName',
            OutputValue: 'cdk-hnb659fds-container-assets-123456789012-eu-west-1',
          },
          {
            OutputKey: 'BootstrapVersion',
            OutputValue: '29',
            Description: 'The version of the bootstrap resources that are currently mastered in this stack',
          },
        ],
      },
    ],
  });
  expect(await getBootstrapStack(client, noWait)).toEqual({ status: 'UPDATE_COMPLETE', version: 29 });
});

test('no bootstrap stack is null; a legacy one has no version', async () => {
  cfn
    .on(DescribeStacksCommand)
    .rejects(cfnError('ValidationError', 'Stack with id CDKToolkit does not exist'));
  expect(await getBootstrapStack(client, noWait)).toBeNull();
  cfn.reset();
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'CDKToolkit',
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [{ OutputKey: 'BucketName', OutputValue: 'cdktoolkit-stagingbucket-abc' }],
      },
    ],
  });
  expect(await getBootstrapStack(client, noWait)).toEqual({ status: 'CREATE_COMPLETE', version: null });
});

test('AccessDenied names the missing permission and the stack', async () => {
  cfn
    .on(DescribeStacksCommand)
    .rejects(
      cfnError(
        'AccessDenied',
        'User: arn:aws:iam::123456789012:user/dev is not authorized to perform: cloudformation:DescribeStacks',
      ),
    );
  await expect(getBootstrapStack(client, noWait)).rejects.toThrow(
    'access denied: your AWS identity lacks the permission cloudformation:DescribeStacks (stack CDKToolkit)',
  );
});

test('the required version is the one the installed aws-cdk-lib synthesizes for', () => {
  const synthesizer = readFileSync(
    join(dirname(require.resolve('aws-cdk-lib')), 'core/lib/stack-synthesizers/default-synthesizer.js'),
    'utf8',
  );
  expect(synthesizer.match(/MIN_BOOTSTRAP_STACK_VERSION=(\d+)/)?.[1]).toBe(
    String(REQUIRED_BOOTSTRAP_VERSION),
  );
});
