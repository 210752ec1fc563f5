// The deploy-time handler of the run's custom resource. Plain CommonJS so Lambda runs this file as it is
// (no bundling at synth); the Node.js runtime provides @aws-sdk/client-sfn.
const {
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} = require('@aws-sdk/client-sfn');

/** Every execution of the state machine (any status) that belongs to `runId`. */
async function executionsOfRun(sfn, stateMachineArn, runId, statusFilter) {
  // `<runId>-<n>` since resumes exist; a bare `<runId>` is an execution the first version of the stack started.
  const escaped = runId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const ofRun = new RegExp(`^${escaped}(-[0-9]+)?$`);
  const found = [];
  let nextToken;
  do {
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter, nextToken }));
    found.push(...(page.executions ?? []).filter((e) => ofRun.test(e.name ?? '')));
    nextToken = page.nextToken;
  } while (nextToken);
  return found;
}

/**
 * Makes sure the run executes: if an execution of this run id runs or succeeded, returns it (a deploy never
 * starts a second one); otherwise starts `<runId>-<n>`, n counting every earlier execution of the run id, so a run
 * whose execution failed or was stopped resumes (the trainer skips units with done markers).
 */
async function ensureRunning(sfn, { stateMachineArn, runId }) {
  const running = await executionsOfRun(sfn, stateMachineArn, runId, 'RUNNING');
  if (running.length > 0) return { executionArn: running[0].executionArn, started: false };
  const earlier = await executionsOfRun(sfn, stateMachineArn, runId, undefined);
  // A run that succeeded has every unit and its report: starting it again would only launch instances.
  const succeeded = earlier.find((e) => e.status === 'SUCCEEDED');
  if (succeeded) return { executionArn: succeeded.executionArn, started: false };
  const name = `${runId}-${earlier.length + 1}`;
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name }));
  return { executionArn, started: true };
}

/** Stops every running execution of the run id; returns the ARNs it stopped. */
async function stopRun(sfn, { stateMachineArn, runId }) {
  const running = await executionsOfRun(sfn, stateMachineArn, runId, 'RUNNING');
  const stopped = [];
  for (const { executionArn } of running) {
    try {
      await sfn.send(
        new StopExecutionCommand({
          executionArn,
          error: 'Destroyed',
          cause: 'the run stack was destroyed or given another run id',
        }),
      );
      stopped.push(executionArn);
    } catch (e) {
      // It finished (and aged out) between the list and the stop: nothing left to stop.
      if (e?.name !== 'ExecutionDoesNotExist') throw e;
    }
  }
  return stopped;
}

/** The custom resource's `onEvent` handler (aws-cdk-lib custom-resources Provider). */
async function handler(event, sfn = new SFNClient({})) {
  const props = event.ResourceProperties;
  for (const key of ['stateMachineArn', 'runId']) {
    if (typeof props?.[key] !== 'string' || props[key] === '')
      throw new Error(
        `ResourceProperties.${key}: expected a non-empty string, found ${JSON.stringify(props?.[key])}`,
      );
  }
  // The physical id is the run id: a new run id replaces the resource, and CloudFormation's delete of
  // the old one stops the old run; a redeploy of the same run id keeps it (no delete follows).
  const physicalResourceId = props.runId;
  if (event.RequestType === 'Delete') {
    await stopRun(sfn, props);
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  const { executionArn } = await ensureRunning(sfn, props);
  return { PhysicalResourceId: physicalResourceId, Data: { executionArn } };
}

module.exports = { ensureRunning, stopRun, handler };
