import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { RetryOptions } from './call';
import { getStackOutputs } from './stack-outputs';

/** The stack `cdk bootstrap` creates, under its default qualifier. */
export const BOOTSTRAP_STACK_NAME = 'CDKToolkit';

/**
 * The bootstrap version the stacks' default synthesizer requires (aws-cdk-lib's
 * MIN_BOOTSTRAP_STACK_VERSION, checked against the installed aws-cdk-lib by a test).
 */
export const REQUIRED_BOOTSTRAP_VERSION = 6;

export interface BootstrapStackInfo {
  status: string;
  /** The stack's `BootstrapVersion` output; null when it has none (a legacy bootstrap). */
  version: number | null;
}

/** The bootstrap stack of the client's region, or null when the region is not bootstrapped. */
export async function getBootstrapStack(
  client: CloudFormationClient,
  retry?: RetryOptions,
): Promise<BootstrapStackInfo | null> {
  const stack = await getStackOutputs(client, BOOTSTRAP_STACK_NAME, retry);
  if (!stack) return null;
  const raw = stack.outputs.BootstrapVersion;
  const version = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : null;
  return { status: stack.status, version };
}
