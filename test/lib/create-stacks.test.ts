import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { BOOT_SCRIPT_PATH } from '../../lib/boot/boot-user-data';
import { GPU_AMI_SSM_PARAMETER } from '../../lib/constructs/training-instance';
import {
  BUDGET_NAME,
  OUTPUT_KEYS,
  PROJECT_TAG,
  RUN_TAG_KEY,
  STACK_NAMES,
} from '../../contracts/deployment-names';
import { BASE_CONTEXT, type BuiltApp, buildApp, fakeDataDir, joinedText, scrubHashes } from './stack-fixture';
import { at, between } from '../support/checked';

// Four apps cover every switch; each is synthesized once and shared by the tests below.
let base: BuiltApp;
let full: BuiltApp;
let closed: BuiltApp;
let worldOpen: BuiltApp;
let baseData: Template;
let baseTraining: Template;
let fullTraining: Template;
let closedData: Template;
let closedTraining: Template;

beforeAll(() => {
  base = buildApp(BASE_CONTEXT, { cfnValidation: true });
  full = buildApp({
    ...BASE_CONTEXT,
    spot: 'true',
    jupyter: 'true',
    keyPairName: 'my-key',
    dataDir: fakeDataDir(),
    instanceType: 'g5.xlarge',
    maxHours: '6',
    preset: 'quick',
  });
  closed = buildApp({ runId: 'test-run', budgetUsd: '0', spot: 'false', jupyter: 'false' });
  worldOpen = buildApp({ ...BASE_CONTEXT, allowedCidr: '0.0.0.0/0', allowAnyIp: 'true' });
  baseData = Template.fromStack(base.data);
  baseTraining = Template.fromStack(base.training);
  fullTraining = Template.fromStack(full.training);
  closedData = Template.fromStack(closed.data);
  closedTraining = Template.fromStack(closed.training);
});

const resourcesOf = (t: Template, type: string) =>
  Object.values(t.findResources(type)) as { Properties: any; DependsOn?: string[] }[];
const firstResource = (t: Template, type: string) => at(resourcesOf(t, type), 0, `a ${type} resource`);

function instanceRolePolicy(t: Template): any[] {
  const roles = t.findResources('AWS::IAM::Role', {
    Properties: {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })],
      },
    },
  });
  const roleIds = Object.keys(roles);
  expect(roleIds).toHaveLength(1);
  const policies = resourcesOf(t, 'AWS::IAM::Policy').filter((p) =>
    p.Properties.Roles.some((r: any) => r.Ref === roleIds[0]),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('stack wiring', () => {
  it('names the stacks as the operator commands expect', () => {
    expect(base.data.stackName).toBe(STACK_NAMES.persistent);
    expect(base.training.stackName).toBe(STACK_NAMES.training);
  });

  it('keeps the persistent stack independent of the training stack', () => {
    expect(base.data.dependencies).toHaveLength(0);
    expect(base.training.dependencies.map((s: Stack) => s.stackName)).toEqual([STACK_NAMES.persistent]);
    const dataJson = JSON.stringify(baseData.toJSON());
    expect(dataJson).not.toContain('Fn::ImportValue');
    expect(dataJson).not.toContain(STACK_NAMES.training);
    // The training stack names the bucket instead of importing an export, so it can be replaced freely.
    expect(JSON.stringify(baseTraining.toJSON())).not.toContain('Fn::ImportValue');
  });

  it('retains nothing of the training stack on destroy (the uploaded data stays: the deployment keeps it)', () => {
    const retained = Object.entries(fullTraining.toJSON().Resources as Record<string, any>)
      .filter(([, r]) => r.DeletionPolicy === 'Retain' || r.UpdateReplacePolicy === 'Retain')
      .map(([id]) => id);
    expect(retained).toEqual([]);
  });

  it('passes the built-in CloudFormation validation', () => {
    base.app.synth();
    const report = JSON.parse(readFileSync(join(base.app.outdir, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports.flatMap((r: any) => r.violations ?? [])).toEqual([]);
  });

  it('matches the snapshot (asset hashes scrubbed)', () => {
    expect(scrubHashes(baseData.toJSON())).toMatchSnapshot('FacepointsData');
    expect(scrubHashes(baseTraining.toJSON())).toMatchSnapshot('FacepointsTraining');
  });
});

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['default', () => base],
    ['spot + jupyter + data upload + key pair', () => full],
    ['no inbound access, no budget', () => closed],
    ['world-open with allowAnyIp', () => worldOpen],
  ])('reports no unacknowledged finding (%s)', (_name, get) => {
    const { app, nag } = get();
    const violations = nag
      .validateScope(app)
      .violations.map(
        (v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );
    expect(violations).toEqual([]);
  });

  it('reports a finding that nobody acknowledged (the check is not vacuous)', () => {
    const probe = buildApp(BASE_CONTEXT);
    new Topic(probe.training, 'UnencryptedProbeTopic');
    const rules = probe.nag.validateScope(probe.app).violations.map((v) => v.ruleName);
    expect(rules).toContain('AwsSolutions-SNS3');
  });

  it('gives a reason for every acknowledgment', () => {
    const acks = base.app.node
      .findAll()
      .flatMap((c) =>
        c.node.metadata
          .filter((m) => m.type === 'aws:cdk:acknowledged-rules')
          .map((m) => m.data as Record<string, string>),
      );
    expect(acks.length).toBeGreaterThan(5);
    for (const ack of acks)
      for (const reason of Object.values(ack)) expect(reason.length).toBeGreaterThan(40);
  });
});

describe('bucket (persistent stack)', () => {
  it('blocks public access, encrypts, versions and survives destroy', () => {
    baseData.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        // The account-regional namespace: facepoints-<account>-<region>-an, which no other account can create.
        BucketNamePrefix: 'facepoints',
        BucketNamespace: 'account-regional',
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    });
  });

  it('lives in a termination-protected stack, so `cdk destroy --all` cannot orphan it and block the next deploy', () => {
    expect(base.data.terminationProtection).toBe(true);
    expect(base.training.terminationProtection).toBe(false);
  });

  it('expires old checkpoint versions under runs/', () => {
    baseData.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Prefix: 'runs/',
            NoncurrentVersionExpiration: { NoncurrentDays: 7 },
            Status: 'Enabled',
          }),
        ]),
      },
    });
  });

  it('denies every request that does not use TLS', () => {
    baseData.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});

describe('cost guard', () => {
  it('budgets the monthly cost of the whole account by default, alerting at 80% actual and 100% forecasted through the topic', () => {
    const budget = firstResource(baseData, 'AWS::Budgets::Budget');
    expect(budget.Properties.Budget).toEqual(
      expect.objectContaining({
        BudgetName: BUDGET_NAME,
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: 50, Unit: 'USD' },
      }),
    );
    // A tag filter would see nothing of a first run: cost allocation tags count only from their activation.
    expect(budget.Properties.Budget.FilterExpression).toBeUndefined();
    const alerts = budget.Properties.NotificationsWithSubscribers.map((n: any) => [
      n.Notification.NotificationType,
      n.Notification.Threshold,
      n.Notification.ThresholdType,
    ]);
    expect(alerts).toEqual([
      ['ACTUAL', 80, 'PERCENTAGE'],
      ['FORECASTED', 100, 'PERCENTAGE'],
    ]);
    for (const n of budget.Properties.NotificationsWithSubscribers) {
      expect(n.Subscribers).toEqual([{ SubscriptionType: 'SNS', Address: { Ref: expect.any(String) } }]);
    }
  });

  it('mails the alert address from the alert topic, and says after deploy what the budget counts', () => {
    const topicId = Object.keys(baseData.findResources('AWS::SNS::Topic'))[0];
    baseData.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'me@example.com',
      TopicArn: { Ref: topicId },
    });
    expect(baseData.toJSON().Outputs[OUTPUT_KEYS.budgetScope].Value).toMatch(
      /^every cost of this AWS account/,
    );
  });

  it('lets AWS Budgets publish to the alert topic', () => {
    baseData.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'budgets.amazonaws.com' },
          }),
        ]),
      },
    });
  });

  it('stops the instance at 100% actual spend with a role that can stop only that instance', () => {
    const action = firstResource(baseTraining, 'AWS::Budgets::BudgetsAction');
    const lookupId = Object.keys(baseTraining.findResources('Custom::AWS'))[0];
    const instanceRef = { 'Fn::GetAtt': [lookupId, 'Fleets.0.Instances.0.InstanceIds.0'] };
    expect(action.Properties).toEqual(
      expect.objectContaining({
        BudgetName: BUDGET_NAME,
        ActionType: 'RUN_SSM_DOCUMENTS',
        ActionThreshold: { Type: 'PERCENTAGE', Value: 100 },
        NotificationType: 'ACTUAL',
        ApprovalModel: 'AUTOMATIC',
        Definition: {
          SsmActionDefinition: {
            Subtype: 'STOP_EC2_INSTANCES',
            Region: { Ref: 'AWS::Region' },
            InstanceIds: [instanceRef],
          },
        },
      }),
    );
    const roleId = action.Properties.ExecutionRoleArn['Fn::GetAtt'][0];
    const role = baseTraining.toJSON().Resources[roleId];
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({
      Service: 'budgets.amazonaws.com',
    });
    const statements = resourcesOf(baseTraining, 'AWS::IAM::Policy')
      .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const stop = statements.find((s: any) => s.Action === 'ec2:StopInstances');
    expect(joinedText(stop.Resource)).toBe('arn:<token>:ec2:<token>:<token>:instance/<token>');
    expect(stop.Resource['Fn::Join'][1]).toContainEqual(instanceRef);
    expect(statements.map((s: any) => s.Action).sort()).toEqual([
      'ec2:DescribeInstanceStatus',
      'ec2:StopInstances',
      'ssm:StartAutomationExecution',
    ]);
  });

  it('counts only the project tag with budgetScope=project, and warns at synth that a first run is not counted', () => {
    const built = buildApp({ ...BASE_CONTEXT, budgetScope: 'project' });
    const budget = firstResource(Template.fromStack(built.data), 'AWS::Budgets::Budget');
    expect(budget.Properties.Budget.FilterExpression).toEqual({
      Tags: { Key: PROJECT_TAG.key, Values: [PROJECT_TAG.value], MatchOptions: ['EQUALS'] },
    });
    const warnings = Annotations.fromStack(built.data).findWarning(
      '*',
      Match.stringLikeRegexp('budgetScope=project'),
    );
    expect(warnings.map((w) => w.entry.data)).toEqual([
      expect.stringContaining('a first run is not counted'),
    ]);
    expect(Annotations.fromStack(base.data).findWarning('*', Match.stringLikeRegexp('budgetScope'))).toEqual(
      [],
    );
  });

  it('deploys no budget and no budget action with budgetUsd=0', () => {
    closedData.resourceCountIs('AWS::Budgets::Budget', 0);
    closedTraining.resourceCountIs('AWS::Budgets::BudgetsAction', 0);
  });
});

describe('network', () => {
  it('has public subnets only and no NAT gateway', () => {
    baseTraining.resourceCountIs('AWS::EC2::NatGateway', 0);
    const subnets = resourcesOf(baseTraining, 'AWS::EC2::Subnet');
    expect(subnets.length).toBeGreaterThan(0);
    for (const s of subnets) expect(s.Properties.MapPublicIpOnLaunch).toBe(true);
  });

  it('allows SSH from allowedCidr only, and nothing else inbound', () => {
    const sg = firstResource(baseTraining, 'AWS::EC2::SecurityGroup');
    expect(sg.Properties.SecurityGroupIngress).toEqual([
      {
        CidrIp: '203.0.113.7/32',
        Description: 'SSH from allowedCidr',
        FromPort: 22,
        IpProtocol: 'tcp',
        ToPort: 22,
      },
    ]);
    baseTraining.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  it('adds the Jupyter port for allowedCidr when jupyter=true', () => {
    const sg = firstResource(fullTraining, 'AWS::EC2::SecurityGroup');
    expect(sg.Properties.SecurityGroupIngress.map((r: any) => [r.CidrIp, r.FromPort, r.ToPort])).toEqual([
      ['203.0.113.7/32', 22, 22],
      ['203.0.113.7/32', 8888, 8888],
    ]);
  });

  it('has no inbound rule at all without allowedCidr', () => {
    const sg = firstResource(closedTraining, 'AWS::EC2::SecurityGroup');
    expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
    closedTraining.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });
});

describe('instance', () => {
  it('resolves the Deep Learning Base AMI from SSM at deploy time', () => {
    const parameters = Object.values(baseTraining.toJSON().Parameters) as any[];
    expect(parameters).toContainEqual({
      Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
      Default: GPU_AMI_SSM_PARAMETER,
    });
  });

  it('requires IMDSv2 (hop limit 2 for the container), encrypts a gp3 root volume and terminates on shutdown', () => {
    const lt = firstResource(baseTraining, 'AWS::EC2::LaunchTemplate');
    const data = lt.Properties.LaunchTemplateData;
    expect(data.MetadataOptions).toEqual({
      HttpEndpoint: 'enabled',
      HttpPutResponseHopLimit: 2,
      HttpTokens: 'required',
    });
    expect(data.InstanceInitiatedShutdownBehavior).toBe('terminate');
    expect(data.BlockDeviceMappings).toEqual([
      {
        DeviceName: '/dev/sda1',
        Ebs: { DeleteOnTermination: true, Encrypted: true, VolumeSize: 120, VolumeType: 'gp3' },
      },
    ]);
    // The fleet picks type and market; an EC2 Fleet refuses a launch template that sets the market itself.
    expect(data.InstanceType).toBeUndefined();
    expect(data.InstanceMarketOptions).toBeUndefined();
    expect(data.KeyName).toBeUndefined();
  });

  const subnetIds = (t: Template) => Object.keys(t.findResources('AWS::EC2::Subnet'));
  const fleetOf = (t: Template) => firstResource(t, 'AWS::EC2::EC2Fleet').Properties;

  it('launches one on-demand instance of the asked-for type through an instant fleet that may use every public subnet', () => {
    const fleet = fleetOf(baseTraining);
    const ltId = Object.keys(baseTraining.findResources('AWS::EC2::LaunchTemplate'))[0];
    expect(fleet.Type).toBe('instant');
    expect(fleet.ReplaceUnhealthyInstances).toBe(false);
    expect(fleet.TargetCapacitySpecification).toEqual({
      TotalTargetCapacity: 1,
      DefaultTargetCapacityType: 'on-demand',
      OnDemandTargetCapacity: 1,
    });
    expect(fleet.OnDemandOptions).toEqual({
      AllocationStrategy: 'prioritized',
      MinTargetCapacity: 1,
      SingleInstanceType: true,
    });
    const [config] = fleet.LaunchTemplateConfigs;
    expect(config.LaunchTemplateSpecification).toEqual({
      LaunchTemplateId: { Ref: ltId },
      Version: { 'Fn::GetAtt': [ltId, 'LatestVersionNumber'] },
    });
    expect(config.Overrides.map((o: any) => [o.InstanceType, o.SubnetId.Ref, o.Priority])).toEqual(
      subnetIds(baseTraining).map((id) => ['g4dn.xlarge', id, 0]),
    );
    expect(subnetIds(baseTraining).length).toBeGreaterThanOrEqual(2);
    baseTraining.resourceCountIs('AWS::EC2::Instance', 0);
  });

  it('with spot=true asks for capacity first across the type and two larger sizes of its family, in every public subnet', () => {
    const fleet = fleetOf(fullTraining);
    expect(fleet.TargetCapacitySpecification).toEqual({
      TotalTargetCapacity: 1,
      DefaultTargetCapacityType: 'spot',
      SpotTargetCapacity: 1,
    });
    expect(fleet.SpotOptions).toEqual({
      AllocationStrategy: 'capacity-optimized-prioritized',
      InstanceInterruptionBehavior: 'terminate',
      MinTargetCapacity: 1,
      SingleInstanceType: true,
    });
    const overrides = fleet.LaunchTemplateConfigs[0].Overrides.map(
      (o: any) => `${o.InstanceType}@${o.SubnetId.Ref}#${o.Priority}`,
    );
    const subnets = subnetIds(fullTraining);
    expect(overrides).toEqual(
      ['g5.xlarge', 'g5.2xlarge', 'g5.4xlarge'].flatMap((type, rank) =>
        subnets.map((id) => `${type}@${id}#${rank}`),
      ),
    );
    expect(
      firstResource(fullTraining, 'AWS::EC2::LaunchTemplate').Properties.LaunchTemplateData.KeyName,
    ).toBe('my-key');
  });

  it('reads the launched instance id from the fleet, with DescribeFleets only', () => {
    const lookup = firstResource(baseTraining, 'Custom::AWS');
    const fleetId = Object.keys(baseTraining.findResources('AWS::EC2::EC2Fleet'))[0];
    const call = JSON.stringify(lookup.Properties.Create);
    expect(call).toContain('describeFleets');
    expect(call).toContain(fleetId);
    const statements = resourcesOf(baseTraining, 'AWS::IAM::Policy')
      .filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes('ec2:DescribeFleets'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([{ Action: 'ec2:DescribeFleets', Effect: 'Allow', Resource: '*' }]);
  });
});

describe('instance role', () => {
  it('reads the data prefix and reads/writes only its own run directory', () => {
    const statements = instanceRolePolicy(baseTraining);
    const s3 = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('s3:')));
    const view = s3.map((s) => ({
      sid: s.Sid,
      actions: [s.Action].flat(),
      resources: [s.Resource].flat().map(joinedText),
      condition: s.Condition,
    }));
    const bucket = 'arn:<token>:s3:::facepoints-<token>-<token>-an';
    expect(view).toEqual([
      // Unconditional: without ListBucket in a GetObject's own context, S3 answers a missing key with 403.
      { sid: 'ListBucket', actions: ['s3:ListBucket'], resources: [bucket], condition: undefined },
      { sid: 'ReadData', actions: ['s3:GetObject'], resources: [`${bucket}/data/*`], condition: undefined },
      {
        sid: 'ReadWriteThisRun',
        actions: [
          's3:GetObject',
          's3:PutObject',
          's3:DeleteObject',
          's3:AbortMultipartUpload',
          's3:ListMultipartUploadParts',
        ],
        resources: [`${bucket}/runs/test-run/*`],
        condition: undefined,
      },
    ]);
  });

  it('pulls only its image repository, writes only its log group, and has no admin or wildcard actions', () => {
    const statements = instanceRolePolicy(baseTraining);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.some((a: string) => a.endsWith(':*') || a === '*')).toBe(false);
    const ecr = statements.find((s) => [s.Action].flat().includes('ecr:BatchGetImage'));
    expect(joinedText(ecr.Resource)).toMatch(
      /^arn:<token>:ecr:<token>:<token>:repository\/cdk-.*-container-assets-<token>-<token>$/,
    );
    const logs = statements.find((s) => [s.Action].flat().includes('logs:PutLogEvents'));
    expect([logs.Resource].flat().map(joinedText)).toEqual([
      'arn:<token>:logs:<token>:<token>:log-group:/facepoints/training:*',
    ]);
    const wildcard = statements.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat());
    expect(wildcard).toEqual(['ecr:GetAuthorizationToken']);
  });

  it('has the SSM core managed policy and no other', () => {
    const roles = resourcesOf(baseTraining, 'AWS::IAM::Role').filter(
      (r) => r.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service === 'ec2.amazonaws.com',
    );
    expect(at(roles, 0, 'the instance role').Properties.ManagedPolicyArns.map(joinedText)).toEqual([
      'arn:<token>:iam::aws:policy/AmazonSSMManagedInstanceCore',
    ]);
  });

  it('may read the Jupyter token secret only when jupyter=true', () => {
    const read = (t: Template) =>
      instanceRolePolicy(t).filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(read(baseTraining)).toHaveLength(0);
    const [statement] = read(fullTraining);
    const secretId = Object.keys(fullTraining.findResources('AWS::SecretsManager::Secret'))[0];
    expect(statement.Resource).toEqual({ Ref: secretId });
    fullTraining.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 48 }),
    });
  });
});

describe('boot user data', () => {
  const userData = (t: Template) =>
    joinedText(firstResource(t, 'AWS::EC2::LaunchTemplate').Properties.LaunchTemplateData.UserData);

  it('embeds the boot script file byte for byte', () => {
    const text = userData(baseTraining);
    const encoded = between(
      text,
      "<<'FACEPOINTS_SCRIPT' | gunzip >/opt/facepoints/train-on-boot.sh\n",
      '\nFACEPOINTS_SCRIPT',
      'the embedded boot script',
    );
    expect(gunzipSync(Buffer.from(encoded.replace(/\n/g, ''), 'base64')).toString('utf8')).toBe(
      readFileSync(BOOT_SCRIPT_PATH, 'utf8'),
    );
    expect(text.trimEnd().split('\n').pop()).toBe('exec /opt/facepoints/train-on-boot.sh install');
  });

  it("renders the deploy's values into the boot settings", () => {
    const env = between(
      userData(fullTraining),
      "<<'FACEPOINTS_ENV'\n",
      '\nFACEPOINTS_ENV',
      'the boot settings',
    ).split('\n');
    expect(env[1]).toMatch(
      /^FACEPOINTS_IMAGE=<token>\.dkr\.ecr\.<token>\.<token>\/cdk-hnb659fds-container-assets-<token>-<token>:[0-9a-f]{64}$/,
    );
    expect(env).toEqual([
      'FACEPOINTS_REGION=<token>',
      env[1],
      'FACEPOINTS_RUN_ID=test-run',
      'FACEPOINTS_PRESET=quick',
      'FACEPOINTS_DATA_URI=s3://facepoints-<token>-<token>-an/data/',
      'FACEPOINTS_OUT_URI=s3://facepoints-<token>-<token>-an/runs',
      'FACEPOINTS_LOG_GROUP=/facepoints/training',
      'FACEPOINTS_INSTANCE_TYPE=g5.xlarge',
      'FACEPOINTS_MAX_HOURS=6',
      'FACEPOINTS_MAX_ATTEMPTS=3',
      'FACEPOINTS_JUPYTER=true',
      'FACEPOINTS_JUPYTER_IMAGE=quay.io/jupyter/minimal-notebook:2026-04-02',
      'FACEPOINTS_JUPYTER_SECRET_ARN=<token>',
    ]);
  });

  it('never contains the Jupyter token, only the secret reference', () => {
    const raw = JSON.stringify(
      firstResource(fullTraining, 'AWS::EC2::LaunchTemplate').Properties.LaunchTemplateData.UserData,
    );
    expect(raw).not.toMatch(/SecretString|resolve:secretsmanager/);
  });
});

describe('image, logs, data upload, outputs, tags', () => {
  it('builds the trainer image from docker/Dockerfile for linux/amd64, with the repository root as context', () => {
    base.app.synth();
    const manifest = JSON.parse(
      readFileSync(join(base.app.outdir, `${STACK_NAMES.training}.assets.json`), 'utf8'),
    );
    const images = Object.values(manifest.dockerImages) as any[];
    expect(images).toHaveLength(1);
    expect(images[0].source.dockerFile).toBe('docker/Dockerfile');
    expect(images[0].source.platform).toBe('linux/amd64');
    const staged = join(base.app.outdir, images[0].source.directory);
    expect(existsSync(join(staged, 'docker/Dockerfile'))).toBe(true);
    expect(existsSync(join(staged, 'package-lock.json'))).toBe(true);
    expect(existsSync(join(staged, 'cli/main.ts'))).toBe(true);
    // The .dockerignore allow-list keeps node_modules, tests and build output out of the context.
    for (const excluded of ['node_modules', 'test', 'dist', 'cdk.out', '.git'])
      expect(existsSync(join(staged, excluded))).toBe(false);
  });

  it('keeps the container log in the persistent stack, so a destroyed run keeps its logs', () => {
    baseData.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/facepoints/training',
      RetentionInDays: 90,
    });
    baseTraining.resourceCountIs('AWS::Logs::LogGroup', 0);
  });

  it('uploads only the Kaggle files of dataDir to data/, keeping them on update and destroy', () => {
    fullTraining.hasResourceProperties('Custom::CDKBucketDeployment', {
      DestinationBucketKeyPrefix: 'data/',
      Prune: false,
      RetainOnDelete: true,
    });
    const fleetId = at(
      Object.keys(fullTraining.findResources('AWS::EC2::EC2Fleet')),
      0,
      'an AWS::EC2::EC2Fleet',
    );
    const deps = fullTraining.toJSON().Resources[fleetId].DependsOn as string[];
    const uploadId = Object.keys(fullTraining.findResources('Custom::CDKBucketDeployment'))[0];
    expect(deps).toContain(uploadId);
    baseTraining.resourceCountIs('Custom::CDKBucketDeployment', 0);
  });

  it('outputs what the operator commands read, under the shared keys', () => {
    const data = Object.keys(baseData.toJSON().Outputs);
    const training = baseTraining.toJSON().Outputs;
    expect(data.sort()).toEqual(
      [
        OUTPUT_KEYS.alertTopicArn,
        OUTPUT_KEYS.budgetName,
        OUTPUT_KEYS.budgetScope,
        OUTPUT_KEYS.bucketName,
      ].sort(),
    );
    expect(training[OUTPUT_KEYS.runId].Value).toBe('test-run');
    expect(training[OUTPUT_KEYS.instanceType].Value).toBe('g4dn.xlarge');
    expect(training[OUTPUT_KEYS.spot].Value).toBe('false');
    expect(training[OUTPUT_KEYS.preset].Value).toBe('seed');
    expect(training[OUTPUT_KEYS.instanceId].Value).toEqual({
      'Fn::GetAtt': [
        Object.keys(baseTraining.findResources('Custom::AWS'))[0],
        'Fleets.0.Instances.0.InstanceIds.0',
      ],
    });
    expect(joinedText(training[OUTPUT_KEYS.watchLogsCommand].Value)).toBe(
      'aws logs tail /facepoints/training --follow --log-stream-name-prefix test-run/ --region <token>',
    );
    expect(joinedText(training[OUTPUT_KEYS.statusCommand].Value)).toBe(
      'npx facepoints status --run test-run --region <token>',
    );
    expect(joinedText(training[OUTPUT_KEYS.sessionCommand].Value)).toBe(
      'aws ssm start-session --target <token> --region <token>',
    );
    expect(training[OUTPUT_KEYS.jupyterTokenCommand]).toBeUndefined();
    expect(fullTraining.toJSON().Outputs[OUTPUT_KEYS.jupyterTokenCommand]).toBeDefined();
    expect(fullTraining.toJSON().Outputs[OUTPUT_KEYS.spot].Value).toBe('true');
  });

  it('tags everything with the project tag, and the training resources with the run id', () => {
    const tagsOf = (t: Template, type: string) =>
      firstResource(t, type).Properties.Tags as { Key: string; Value: string }[];
    expect(tagsOf(baseData, 'AWS::S3::Bucket')).toContainEqual({
      Key: PROJECT_TAG.key,
      Value: PROJECT_TAG.value,
    });
    expect(tagsOf(baseData, 'AWS::S3::Bucket').map((t) => t.Key)).not.toContain(RUN_TAG_KEY);
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::SecurityGroup']) {
      expect(tagsOf(baseTraining, type)).toEqual(
        expect.arrayContaining([
          { Key: PROJECT_TAG.key, Value: PROJECT_TAG.value },
          { Key: RUN_TAG_KEY, Value: 'test-run' },
        ]),
      );
    }
    // The launch template carries the tags to the instance and its root volume (the volume costs money too).
    const specs = firstResource(baseTraining, 'AWS::EC2::LaunchTemplate').Properties.LaunchTemplateData
      .TagSpecifications;
    expect(specs.map((s: any) => s.ResourceType).sort()).toEqual(['instance', 'volume']);
    for (const s of specs)
      expect(s.Tags).toEqual(
        expect.arrayContaining([
          { Key: PROJECT_TAG.key, Value: PROJECT_TAG.value },
          { Key: RUN_TAG_KEY, Value: 'test-run' },
        ]),
      );
  });
});
