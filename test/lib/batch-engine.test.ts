import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { SPECIALISTS } from '../../contracts/keypoints';
import { OUTPUT_KEYS, PROJECT_TAG, RUN_TAG_KEY } from '../../contracts/deployment-names';
import { EXIT_INTERRUPTED, EXIT_USAGE } from '../../contracts/run-status';
import { BASE_CONTEXT, type BuiltApp, buildApp, fakeDataDir, joinedText, scrubHashes } from './stack-fixture';
import { at } from '../support/checked';

/**
 * The training stack with engine=batch (`npx cdk synth -c engine=batch ...`): compute environment, queue,
 * job definition, the state machine that runs the units, the deploy-time start, and their IAM.
 */
let onDemand: BuiltApp;
let spot: BuiltApp;
let instance: BuiltApp;
let t: Template;
let spotT: Template;

beforeAll(() => {
  onDemand = buildApp({ ...BASE_CONTEXT, engine: 'batch', maxHours: '6' }, { cfnValidation: true });
  spot = buildApp({
    ...BASE_CONTEXT,
    engine: 'batch',
    spot: 'true',
    instanceType: 'g5.xlarge',
    maxParallel: '6',
    dataDir: fakeDataDir(),
    preset: 'quick',
    runId: 'run.2',
  });
  instance = buildApp(BASE_CONTEXT);
  t = Template.fromStack(onDemand.training);
  spotT = Template.fromStack(spot.training);
});

type Resource = { Properties: any; DependsOn?: string[] };
const resourcesOf = (tpl: Template, type: string) =>
  Object.entries(tpl.findResources(type)) as [string, Resource][];
const only = (tpl: Template, type: string): [string, Resource] => {
  const found = resourcesOf(tpl, type);
  expect(found.map(([id]) => id)).toHaveLength(1);
  return at(found, 0, `a ${type}`);
};
const computeOf = (tpl: Template) => only(tpl, 'AWS::Batch::ComputeEnvironment')[1].Properties;
const containerOf = (tpl: Template) => only(tpl, 'AWS::Batch::JobDefinition')[1].Properties;

/** The state machine's definition, every CloudFormation token shown as `<token>`. */
function definitionOf(tpl: Template): any {
  return JSON.parse(joinedText(only(tpl, 'AWS::StepFunctions::StateMachine')[1].Properties.DefinitionString));
}

/** The statements of every inline policy attached to the role with this logical id. */
function statementsOfRole(tpl: Template, roleId: string): any[] {
  return resourcesOf(tpl, 'AWS::IAM::Policy')
    .filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
}

function roleIdAssumedBy(tpl: Template, service: string): string[] {
  return resourcesOf(tpl, 'AWS::IAM::Role')
    .filter(([, r]) => r.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service === service)
    .map(([id]) => id);
}

const view = (statements: any[]) =>
  statements.map((s) => ({
    actions: [s.Action].flat(),
    resources: [s.Resource].flat().map(joinedText),
  }));

const BUCKET = 'arn:<token>:s3:::facepoints-<token>-<token>-an';

describe('engine=batch: what it creates instead of the instance', () => {
  it('has no instance, fleet or instance budget action, and the instance engine has no Batch resource', () => {
    for (const type of ['AWS::EC2::EC2Fleet', 'AWS::EC2::LaunchTemplate', 'AWS::Budgets::BudgetsAction'])
      t.resourceCountIs(type, 0);
    const instanceT = Template.fromStack(instance.training);
    for (const type of [
      'AWS::Batch::ComputeEnvironment',
      'AWS::Batch::JobQueue',
      'AWS::Batch::JobDefinition',
      'AWS::StepFunctions::StateMachine',
    ])
      instanceT.resourceCountIs(type, 0);
  });

  it.each([
    ['on demand', () => onDemand],
    ['spot + data upload', () => spot],
  ])('reports no unacknowledged cdk-nag finding (%s)', (_name, get) => {
    const { app, nag } = get();
    const violations = nag
      .validateScope(app)
      .violations.map(
        (v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );
    expect(violations).toEqual([]);
  });

  it('passes the built-in CloudFormation validation', () => {
    onDemand.app.synth();
    const report = JSON.parse(readFileSync(join(onDemand.app.outdir, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports.flatMap((r: any) => r.violations ?? [])).toEqual([]);
  });

  it('matches the snapshot (asset hashes scrubbed)', () => {
    const json = JSON.stringify(scrubHashes(t.toJSON())).replace(
      /"deployedAt":"[^"]+"/,
      '"deployedAt":"<synth time>"',
    );
    expect(JSON.parse(json)).toMatchSnapshot('FacepointsTraining engine=batch');
  });

  it('retains nothing on destroy', () => {
    const retained = Object.entries(spotT.toJSON().Resources as Record<string, any>)
      .filter(([, r]) => r.DeletionPolicy === 'Retain' || r.UpdateReplacePolicy === 'Retain')
      .map(([id]) => id);
    expect(retained).toEqual([]);
  });

  it('opens no inbound port even with allowedCidr, and says at synth that allowedCidr is unused', () => {
    const [, sg] = only(t, 'AWS::EC2::SecurityGroup');
    expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
    t.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    const warnings = Annotations.fromStack(onDemand.training).findWarning(
      '*',
      Match.stringLikeRegexp('allowedCidr=203.0.113.7/32 is not used with engine=batch'),
    );
    expect(warnings).toHaveLength(1);
  });
});

describe('compute environment and queue', () => {
  it('launches on-demand GPU instances of the allowed types only, from 0 vCPUs, in every public subnet', () => {
    const ce = computeOf(t);
    expect(ce.Type).toBe('managed');
    expect(ce.State).toBe('ENABLED');
    const subnets = resourcesOf(t, 'AWS::EC2::Subnet').map(([id]) => id);
    expect(subnets.length).toBeGreaterThanOrEqual(2);
    expect(ce.ComputeResources).toEqual(
      expect.objectContaining({
        Type: 'EC2',
        AllocationStrategy: 'BEST_FIT_PROGRESSIVE',
        // No "optimal": it would let Batch pick CPU-only or unsupported GPU families.
        InstanceTypes: ['g4dn.xlarge'],
        Ec2Configuration: [{ ImageType: 'ECS_AL2023_NVIDIA' }],
        MinvCpus: 0,
        // maxParallel (default 2) instances of the largest type (4 vCPUs).
        MaxvCpus: 8,
        Subnets: subnets.map((id) => ({ Ref: id })),
      }),
    );
    expect(ce.ComputeResources.SpotIamFleetRole).toBeUndefined();
  });

  it('with spot=true takes spot capacity first across the type and its two larger sizes, room for maxParallel of the largest', () => {
    expect(computeOf(spotT).ComputeResources).toEqual(
      expect.objectContaining({
        Type: 'SPOT',
        AllocationStrategy: 'SPOT_CAPACITY_OPTIMIZED',
        InstanceTypes: ['g5.xlarge', 'g5.2xlarge', 'g5.4xlarge'],
        MinvCpus: 0,
        MaxvCpus: 6 * 16,
      }),
    );
  });

  it('tags the instances Batch launches with the project and run id, so cost reports and the budget see them', () => {
    const tags = computeOf(spotT).ComputeResources.Tags;
    expect(tags).toEqual({ [PROJECT_TAG.key]: PROJECT_TAG.value, [RUN_TAG_KEY]: 'run.2' });
    expect(containerOf(spotT).PropagateTags).toBe(true);
  });

  it('queues onto that compute environment only', () => {
    const [ceId] = only(t, 'AWS::Batch::ComputeEnvironment');
    const [, queue] = only(t, 'AWS::Batch::JobQueue');
    expect(queue.Properties.ComputeEnvironmentOrder).toEqual([
      { ComputeEnvironment: { 'Fn::GetAtt': [ceId, 'ComputeEnvironmentArn'] }, Order: 1 },
    ]);
  });
});

describe('job definition', () => {
  it('runs the trainer image on one GPU with what the smallest allowed type can give', () => {
    const def = containerOf(t);
    expect(def.PlatformCapabilities).toEqual(['EC2']);
    const resources = Object.fromEntries(
      def.ContainerProperties.ResourceRequirements.map((r: any) => [r.Type, r.Value]),
    );
    // g4dn.xlarge: 4 vCPUs, 16 GiB, of which 2 GiB stay with the host.
    expect(resources).toEqual({ GPU: '1', VCPU: '4', MEMORY: '14336' });
    expect(joinedText(def.ContainerProperties.Image)).toMatch(
      /^<token>\.dkr\.ecr\.<token>\.<token>\/cdk-hnb659fds-container-assets-<token>-<token>:[0-9a-f]{64}$/,
    );
    const bigger = buildApp({ ...BASE_CONTEXT, engine: 'batch', instanceTypes: 'g4dn.4xlarge,g4dn.2xlarge' });
    const big = Object.fromEntries(
      containerOf(Template.fromStack(bigger.training)).ContainerProperties.ResourceRequirements.map(
        (r: any) => [r.Type, r.Value],
      ),
    );
    expect(big).toEqual({ GPU: '1', VCPU: '8', MEMORY: String(32 * 1024 - 2048) });
  });

  it('trains the units named by its parameter, for this run and preset, on the GPU', () => {
    const def = containerOf(spotT);
    expect(def.ContainerProperties.Command.map(joinedText)).toEqual([
      'train',
      '--data',
      's3://facepoints-<token>-<token>-an/data/',
      '--out',
      's3://facepoints-<token>-<token>-an/runs',
      '--run',
      'run.2',
      '--preset',
      'quick',
      '--require-gpu',
      '--units',
      'Ref::units',
    ]);
    expect(def.Parameters).toEqual({ units: 'baseline' });
  });

  it('logs to the trainer log group under the run id, and stops an attempt after maxHours', () => {
    const def = containerOf(t);
    expect(def.ContainerProperties.LogConfiguration).toEqual({
      LogDriver: 'awslogs',
      Options: {
        'awslogs-group': '/facepoints/training',
        'awslogs-stream-prefix': 'test-run',
        'awslogs-region': { Ref: 'AWS::Region' },
      },
    });
    expect(def.Timeout).toEqual({ AttemptDurationSeconds: 6 * 3600 });
  });

  it('retries spot reclaims, lost hosts and interruptions, never a usage error, and nothing else', () => {
    expect(containerOf(t).RetryStrategy).toEqual({
      Attempts: 10,
      EvaluateOnExit: [
        { Action: 'EXIT', OnExitCode: String(EXIT_USAGE) },
        { Action: 'RETRY', OnStatusReason: 'Host EC2*' },
        { Action: 'RETRY', OnExitCode: String(EXIT_INTERRUPTED) },
        // Batch retries whatever matches no entry: this one ends every other failure.
        { Action: 'EXIT', OnReason: '*' },
      ],
    });
  });
});

describe('orchestration', () => {
  it('runs the baseline, then every specialist at most maxParallel at a time, then the report, each waiting for its job', () => {
    const def = definitionOf(spotT);
    expect(def.StartAt).toBe('Baseline');
    const order: string[] = [];
    for (let s: string | undefined = def.StartAt; s; s = def.States[s].Next) order.push(s);
    expect(order).toEqual(['Baseline', 'ListSpecialists', 'Specialists', 'Report']);

    const baseline = def.States.Baseline;
    expect(baseline.Resource).toBe('arn:<token>:states:::batch:submitJob.sync');
    expect(baseline.Parameters.Parameters).toEqual({ units: 'baseline' });

    expect(def.States.ListSpecialists.Result.map((r: any) => r.units)).toEqual(
      SPECIALISTS.map((s) => `specialists/${s.name}`),
    );
    const map = def.States.Specialists;
    expect(map.Type).toBe('Map');
    expect(map.MaxConcurrency).toBe(6);
    expect(map.ItemsPath).toBe('$.specialists');
    const item = map.ItemProcessor.States[map.ItemProcessor.StartAt];
    expect(item.Resource).toBe('arn:<token>:states:::batch:submitJob.sync');
    expect(item.Parameters.Parameters).toEqual({ 'units.$': '$.units' });
    // Batch job names refuse dots.
    expect(item.Parameters['JobName.$']).toBe("States.Format('run_2-{}', $.name)");

    const report = def.States.Report;
    expect(report.Resource).toBe('arn:<token>:states:::batch:submitJob.sync');
    expect(report.End).toBe(true);
    expect(report.Parameters.ContainerOverrides.Command).toEqual([
      'report',
      '--out',
      's3://facepoints-<token>-<token>-an/runs',
      '--run',
      'run.2',
    ]);
    expect(definitionOf(t).States.Specialists.MaxConcurrency).toBe(2);
  });

  it('submits every job to the run queue with the run job definition', () => {
    const [queueId] = only(t, 'AWS::Batch::JobQueue');
    const [defId] = only(t, 'AWS::Batch::JobDefinition');
    const raw = JSON.stringify(only(t, 'AWS::StepFunctions::StateMachine')[1].Properties.DefinitionString);
    expect(raw.split(`{"Fn::GetAtt":["${queueId}","JobQueueArn"]}`)).toHaveLength(4);
    expect(raw.split(`{"Ref":"${defId}"}`)).toHaveLength(4);
  });

  it('logs every state transition to the trainer log group and traces with X-Ray', () => {
    const [, sm] = only(t, 'AWS::StepFunctions::StateMachine');
    expect(sm.Properties.LoggingConfiguration.Level).toBe('ALL');
    expect(
      joinedText(sm.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn),
    ).toBe('arn:<token>:logs:<token>:<token>:log-group:/facepoints/training:*');
    expect(sm.Properties.TracingConfiguration).toEqual({ Enabled: true });
  });

  it('checks the run at every deploy: the handler gets the state machine, the run id and the synth time', () => {
    const [smId] = only(spotT, 'AWS::StepFunctions::StateMachine');
    const [, start] = only(spotT, 'Custom::FacepointsRun');
    const [fnId, fn] = resourcesOf(spotT, 'AWS::Lambda::Function').find(([id]) =>
      id.startsWith('RunStartRunFunction'),
    ) ?? ['', undefined];
    const { ServiceToken, deployedAt, ...rest } = start.Properties;
    expect(rest).toEqual({ stateMachineArn: { Ref: smId }, runId: 'run.2' });
    // A value that differs at every synth, so every `cdk deploy` sends an Update and a failed or stopped run resumes.
    expect(new Date(deployedAt).toISOString()).toBe(deployedAt);
    expect(Date.now() - Date.parse(deployedAt)).toBeLessThan(10 * 60 * 1000);
    expect(ServiceToken['Fn::GetAtt'][0]).toMatch(/^RunStartRunProviderframeworkonEvent/);
    expect(fn?.Properties.Handler).toBe('index.handler');
    expect(fn?.Properties.Runtime).toMatch(/^nodejs\d+\.x$/);
    expect(fnId).not.toBe('');
  });

  it('starts the run only once the data is uploaded and the job role can use it', () => {
    const [, start] = only(spotT, 'Custom::FacepointsRun');
    const [uploadId] = only(spotT, 'Custom::CDKBucketDeployment');
    const [jobRoleId] = roleIdAssumedBy(spotT, 'ecs-tasks.amazonaws.com').filter((id) =>
      id.startsWith('JobRole'),
    );
    const jobPolicyId = resourcesOf(spotT, 'AWS::IAM::Policy')
      .filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === jobRoleId))
      .map(([id]) => id);
    expect(start.DependsOn).toEqual(expect.arrayContaining([uploadId, jobRoleId, ...jobPolicyId]));
  });
});

describe('IAM (least privilege)', () => {
  it('gives the job role exactly the run access of the instance role: the data prefix and its own run directory', () => {
    const [jobRoleId] = roleIdAssumedBy(t, 'ecs-tasks.amazonaws.com').filter((id) =>
      id.startsWith('JobRole'),
    );
    const role = t.toJSON().Resources[jobRoleId as string];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const statements = statementsOfRole(t, jobRoleId as string);
    expect(statements.map((s) => ({ sid: s.Sid, ...view([s])[0], condition: s.Condition }))).toEqual([
      { sid: 'ListBucket', actions: ['s3:ListBucket'], resources: [BUCKET], condition: undefined },
      { sid: 'ReadData', actions: ['s3:GetObject'], resources: [`${BUCKET}/data/*`], condition: undefined },
      {
        sid: 'ReadWriteThisRun',
        actions: [
          's3:GetObject',
          's3:PutObject',
          's3:DeleteObject',
          's3:AbortMultipartUpload',
          's3:ListMultipartUploadParts',
        ],
        resources: [`${BUCKET}/runs/test-run/*`],
        condition: undefined,
      },
    ]);
    const instanceRoleId = roleIdAssumedBy(Template.fromStack(instance.training), 'ec2.amazonaws.com');
    const instanceS3 = statementsOfRole(
      Template.fromStack(instance.training),
      instanceRoleId[0] as string,
    ).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('s3:')));
    expect(statements).toEqual(instanceS3);
  });

  it('lets the execution role pull only the image repository and write only the trainer log group', () => {
    const executionRoles = roleIdAssumedBy(t, 'ecs-tasks.amazonaws.com').filter(
      (id) => !id.startsWith('JobRole'),
    );
    expect(executionRoles).toHaveLength(1);
    expect(view(statementsOfRole(t, executionRoles[0] as string))).toEqual([
      {
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: ['arn:<token>:logs:<token>:<token>:log-group:/facepoints/training:*'],
      },
      {
        actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
        resources: [
          'arn:<token>:ecr:<token>:<token>:repository/cdk-hnb659fds-container-assets-<token>-<token>',
        ],
      },
      { actions: ['ecr:GetAuthorizationToken'], resources: ['*'] },
    ]);
  });

  it('lets the state machine submit to the run queue, follow and stop its jobs, and log, nothing more', () => {
    const [smRoleId] = roleIdAssumedBy(t, 'states.amazonaws.com');
    expect(view(statementsOfRole(t, smRoleId as string))).toEqual([
      {
        actions: ['batch:SubmitJob'],
        resources: ['arn:<token>:batch:<token>:<token>:job-definition/*', '<token>'],
      },
      {
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: ['arn:<token>:events:<token>:<token>:rule/StepFunctionsGetEventsForBatchJobsRule'],
      },
      {
        actions: [
          'logs:CreateLogDelivery',
          'logs:GetLogDelivery',
          'logs:UpdateLogDelivery',
          'logs:DeleteLogDelivery',
          'logs:ListLogDeliveries',
          'logs:PutResourcePolicy',
          'logs:DescribeResourcePolicies',
          'logs:DescribeLogGroups',
        ],
        resources: ['*'],
      },
      {
        actions: [
          'xray:PutTraceSegments',
          'xray:PutTelemetryRecords',
          'xray:GetSamplingRules',
          'xray:GetSamplingTargets',
        ],
        resources: ['*'],
      },
      { actions: ['batch:TerminateJob'], resources: ['arn:<token>:batch:<token>:<token>:job/*'] },
      { actions: ['batch:DescribeJobs'], resources: ['*'] },
    ]);
    const [queueId] = only(t, 'AWS::Batch::JobQueue');
    const submit = statementsOfRole(t, smRoleId as string)[0];
    expect(submit.Resource[1]).toEqual({ 'Fn::GetAtt': [queueId, 'JobQueueArn'] });
  });

  it('lets the deploy list and start executions of this state machine only and stop only its executions', () => {
    const [smId] = only(t, 'AWS::StepFunctions::StateMachine');
    const policy = resourcesOf(t, 'AWS::IAM::Policy').filter(([id]) => id.startsWith('RunStartRunRole'));
    const statements = policy.flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      {
        Action: ['states:ListExecutions', 'states:StartExecution'],
        Effect: 'Allow',
        Resource: { Ref: smId },
      },
      {
        Action: 'states:StopExecution',
        Effect: 'Allow',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':states:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':execution:',
              { 'Fn::GetAtt': [smId, 'Name'] },
              ':*',
            ],
          ],
        },
      },
    ]);
    const [roleId] = resourcesOf(t, 'AWS::IAM::Role').find(([id]) => id.startsWith('RunStartRunRole')) ?? [
      '',
    ];
    expect(only(t, 'Custom::FacepointsRun')[1].Properties.ServiceToken).toBeDefined();
    expect(
      resourcesOf(t, 'AWS::Lambda::Function').find(([id]) => id.startsWith('RunStartRunFunction'))?.[1]
        .Properties.Role,
    ).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
  });
});

describe('outputs', () => {
  it('names the engine, the queue, the state machine and the started execution, and how to follow the run', () => {
    const outputs = t.toJSON().Outputs;
    expect(outputs[OUTPUT_KEYS.engine].Value).toBe('batch');
    expect(outputs[OUTPUT_KEYS.instanceType].Value).toBe('g4dn.xlarge');
    expect(outputs[OUTPUT_KEYS.runId].Value).toBe('test-run');
    // The execution that runs after the deploy, as the handler returned it (started or already running).
    expect(outputs[OUTPUT_KEYS.executionArn].Value).toEqual({
      'Fn::GetAtt': [only(t, 'Custom::FacepointsRun')[0], 'executionArn'],
    });
    expect(joinedText(outputs[OUTPUT_KEYS.executionCommand].Value)).toBe(
      'aws stepfunctions describe-execution --execution-arn <token> --region <token>',
    );
    expect(joinedText(outputs[OUTPUT_KEYS.watchLogsCommand].Value)).toBe(
      'aws logs tail /facepoints/training --follow --log-stream-name-prefix test-run/ --region <token>',
    );
    expect(outputs[OUTPUT_KEYS.instanceId]).toBeUndefined();
    expect(outputs[OUTPUT_KEYS.sessionCommand]).toBeUndefined();
    expect(outputs[OUTPUT_KEYS.engineComparison].Value).toBe(
      'instance 82.8 h $43.53; batch x2 42.9 h $44.08 (at $0.526/h, 9 min start per instance); hours as the seed measured them on a g2.2xlarge, g4dn.xlarge on-demand list price',
    );
    expect(spotT.toJSON().Outputs[OUTPUT_KEYS.engineComparison].Value).toBe(
      'no measured hours for preset quick: facepoints train --preset quick --dry-run measures its speed',
    );
    expect(Template.fromStack(spot.training).toJSON().Outputs[OUTPUT_KEYS.instanceType].Value).toBe(
      'g5.xlarge,g5.2xlarge,g5.4xlarge',
    );
  });
});
