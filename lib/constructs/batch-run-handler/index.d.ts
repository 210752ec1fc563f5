import type { SFNClient } from '@aws-sdk/client-sfn';

export interface RunOfStateMachine {
  stateMachineArn: string;
  runId: string;
}

export function ensureRunning(
  sfn: SFNClient,
  run: RunOfStateMachine,
): Promise<{ executionArn: string; started: boolean }>;

export function stopRun(sfn: SFNClient, run: RunOfStateMachine): Promise<string[]>;

export function handler(
  event: {
    RequestType: 'Create' | 'Update' | 'Delete';
    PhysicalResourceId?: string;
    ResourceProperties: Record<string, unknown>;
  },
  sfn?: SFNClient,
): Promise<{ PhysicalResourceId?: string; Data?: { executionArn: string } }>;
