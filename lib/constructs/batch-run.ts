import * as path from 'node:path';
import { ArnFormat, CustomResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as batch from 'aws-cdk-lib/aws-batch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { SPECIALISTS } from '../../contracts/keypoints';
import { UNITS_PARAMETER } from './batch-job-definition';

/** The units of the specialist jobs, in the trainer's `--units` syntax. */
export const SPECIALIST_UNITS = SPECIALISTS.map((s) => ({ name: s.name, units: `specialists/${s.name}` }));

export interface BatchRunProps {
  readonly queue: batch.IJobQueue;
  readonly jobDefinition: batch.IJobDefinition;
  /** Command of the final job, which writes the report. */
  readonly reportCommand: string[];
  readonly runId: string;
  /** Specialist jobs at the same time. */
  readonly maxParallel: number;
  /** Where the state machine logs every state transition. */
  readonly logGroup: logs.ILogGroup;
  /** When the template is synthesized (default: now); it changes at every deploy, so the run is checked each time. */
  readonly synthesizedAt?: Date;
}

/**
 * The run as a Step Functions state machine: the baseline job, then the six specialists (each starts from
 * the baseline's weights) at most `maxParallel` at a time, then the report. Each step waits for its Batch
 * job (`.sync`), so the console shows which unit runs, retries or failed, and stopping the execution stops
 * the job. Every deploy makes sure an execution of the run id runs: it keeps the one that runs, or starts
 * `<runId>-<n>` (which skips the units already done); destroy stops it.
 */
export class BatchRun extends Construct {
  readonly stateMachine: sfn.StateMachine;
  /** The execution of the run id that runs after the deploy (started by it, or already running). */
  readonly executionArn: string;
  /** The deploy-time resource that starts or resumes the run (and stops it on destroy). */
  readonly start: CustomResource;

  constructor(scope: Construct, id: string, props: BatchRunProps) {
    super(scope, id);
    // Batch job names take letters, digits, hyphens and underscores; run ids may also hold dots.
    const jobPrefix = props.runId.replace(/\./g, '_');
    const submit = (stateId: string, options: Partial<tasks.BatchSubmitJobProps>) =>
      new tasks.BatchSubmitJob(this, stateId, {
        jobQueueArn: props.queue.jobQueueArn,
        jobDefinitionArn: props.jobDefinition.jobDefinitionArn,
        jobName: `${jobPrefix}-${stateId.toLowerCase()}`,
        integrationPattern: sfn.IntegrationPattern.RUN_JOB,
        // The job's description is large and nothing downstream reads it.
        resultPath: sfn.JsonPath.DISCARD,
        ...options,
      });

    const baseline = submit('Baseline', {
      payload: sfn.TaskInput.fromObject({ [UNITS_PARAMETER]: 'baseline' }),
    });
    const listSpecialists = new sfn.Pass(this, 'ListSpecialists', {
      result: sfn.Result.fromArray(SPECIALIST_UNITS),
      resultPath: '$.specialists',
    });
    const specialists = new sfn.Map(this, 'Specialists', {
      itemsPath: '$.specialists',
      maxConcurrency: props.maxParallel,
      resultPath: sfn.JsonPath.DISCARD,
    });
    specialists.itemProcessor(
      submit('Specialist', {
        jobName: sfn.JsonPath.format(`${jobPrefix}-{}`, sfn.JsonPath.stringAt('$.name')),
        payload: sfn.TaskInput.fromObject({ [UNITS_PARAMETER]: sfn.JsonPath.stringAt('$.units') }),
      }),
    );
    const report = submit('Report', { containerOverrides: { command: props.reportCommand } });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(
        baseline.next(listSpecialists).next(specialists).next(report),
      ),
      stateMachineType: sfn.StateMachineType.STANDARD,
      logs: { destination: props.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });
    // Step Functions' documented policy for `.sync` Batch jobs, which aws-cdk-lib's task leaves out:
    // TerminateJob is how stopping the execution (on destroy) stops the job that runs.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['batch:TerminateJob'],
        resources: [Stack.of(this).formatArn({ service: 'batch', resource: 'job', resourceName: '*' })],
      }),
    );
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['batch:DescribeJobs'], resources: ['*'] }),
    );
    Validations.of(this.stateMachine.role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:batch:<AWS::Region>:<AWS::AccountId>:job/*]',
        reason:
          'Batch job ids exist only once a job is submitted; TerminateJob stops the jobs of this run when its execution is stopped.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:batch:<AWS::Region>:<AWS::AccountId>:job-definition/*]',
        reason:
          "aws-cdk-lib's BatchSubmitJob grants SubmitJob on every revision of a job definition; the queue it may submit to is this run's only.",
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'batch:DescribeJobs, CloudWatch Logs delivery and X-Ray trace uploads (for the .sync wait, logging and tracing) have no resource-level permissions.',
      },
    );

    const executionArns = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const role = new iam.Role(this, 'StartRunRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole'),
      ],
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['states:ListExecutions', 'states:StartExecution'],
        resources: [this.stateMachine.stateMachineArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['states:StopExecution'], resources: [executionArns] }),
    );
    const onEvent = new lambda.Function(this, 'StartRunFunction', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(__dirname, 'batch-run-handler'), { exclude: ['*.d.ts'] }),
      role,
      timeout: Duration.minutes(1),
      description: 'facepoints: starts or resumes the run at deploy, stops it on destroy',
    });
    const provider = new cr.Provider(this, 'StartRunProvider', { onEventHandler: onEvent });
    // A property that changes at every synth, so every `cdk deploy` sends an Update: the handler then
    // starts a new execution of the run id unless one runs (a failed or stopped run resumes).
    this.start = new CustomResource(this, 'StartRun', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::FacepointsRun',
      properties: {
        stateMachineArn: this.stateMachine.stateMachineArn,
        runId: props.runId,
        deployedAt: (props.synthesizedAt ?? new Date()).toISOString(),
      },
    });
    this.executionArn = this.start.getAttString('executionArn');

    Validations.of(role).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${Stack.of(this).getLogicalId(this.stateMachine.node.defaultChild as sfn.CfnStateMachine)}.Name>:*]`,
        reason:
          'StopExecution on executions of this state machine only; executions are named at deploy time.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'The function runs only during the deploy; the basic execution policy only lets it write its own logs.',
      },
    );
    const managedByCdk =
      'The function is generated by aws-cdk-lib custom-resources and runs only during the deploy';
    Validations.of(provider).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: `${managedByCdk}; the basic execution policy only lets it write its own logs.`,
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(onEvent.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
        reason: `${managedByCdk}; it invokes the versions of this run's handler function only.`,
      },
      { id: 'AwsSolutions-L1', reason: `${managedByCdk}; its runtime is chosen by aws-cdk-lib.` },
    );
  }
}
