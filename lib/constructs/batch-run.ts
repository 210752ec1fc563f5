import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import type * as batch from 'aws-cdk-lib/aws-batch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import {
  AwsCustomResource,
  AwsCustomResourcePolicy,
  PhysicalResourceId,
  PhysicalResourceIdReference,
} from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { SPECIALISTS } from '../../contracts/keypoints';
import { UNITS_PARAMETER } from './batch-job-definition';
import { acknowledgeCustomResourceProvider } from './custom-resource-provider';

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
}

/**
 * The run as a Step Functions state machine: the baseline job, then the six specialists (each starts from
 * the baseline's weights) at most `maxParallel` at a time, then the report. Each step waits for its Batch
 * job (`.sync`), so the console shows which unit runs, retries or failed, and stopping the execution stops
 * the job. The deploy starts one execution named after the run id and stops it on destroy.
 */
export class BatchRun extends Construct {
  readonly stateMachine: sfn.StateMachine;
  /** The execution the deploy started. */
  readonly executionArn: string;
  /** The deploy-time resource that starts the execution (and stops it on destroy). */
  readonly start: AwsCustomResource;

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
    const start = {
      service: 'SFN',
      action: 'startExecution',
      parameters: { stateMachineArn: this.stateMachine.stateMachineArn, name: props.runId },
      physicalResourceId: PhysicalResourceId.fromResponse('executionArn'),
    };
    // Created once per run id: an unchanged redeploy leaves the execution alone, a new run id starts a new
    // one, and CloudFormation then deletes the old resource, which stops the old execution.
    this.start = new AwsCustomResource(this, 'StartRun', {
      onCreate: start,
      onUpdate: start,
      onDelete: {
        service: 'SFN',
        action: 'stopExecution',
        parameters: {
          executionArn: new PhysicalResourceIdReference(),
          error: 'Destroyed',
          cause: 'the run stack was destroyed or given another run id',
        },
        // An execution past Step Functions' history retention is gone: nothing left to stop.
        ignoreErrorCodesMatching: 'ExecutionDoesNotExist',
      },
      policy: AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['states:StartExecution'],
          resources: [this.stateMachine.stateMachineArn],
        }),
        new iam.PolicyStatement({ actions: ['states:StopExecution'], resources: [executionArns] }),
      ]),
      installLatestAwsSdk: false,
    });
    this.executionArn = this.start.getResponseField('executionArn');

    Validations.of(this.start).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${Stack.of(this).getLogicalId(this.stateMachine.node.defaultChild as sfn.CfnStateMachine)}.Name>:*]`,
      reason:
        'StopExecution on executions of this state machine only; the execution is named at deploy time.',
    });
    acknowledgeCustomResourceProvider(this);
  }
}
