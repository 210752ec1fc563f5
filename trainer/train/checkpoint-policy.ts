/** How often a unit checkpoints besides at every new best, on abort and once finished. */
export interface CheckpointPolicy {
  everyEpochs: number;
  everyMinutes: number;
}

/** What the training loop knows after a batch or at the end of an epoch. */
export interface CheckpointFacts {
  /** After a batch inside an epoch, or once an epoch has been evaluated. */
  at: 'batch' | 'epoch';
  /** Work remains after this point: not the epoch's last batch, or not the unit's last epoch (the final save covers that). */
  moreToCome: boolean;
  /** SIGTERM or a spot notice arrived. */
  interrupted: boolean;
  /** The epoch just evaluated set a new best dev loss (false after a batch). */
  newBest: boolean;
  epochsSinceCheckpoint: number;
  msSinceCheckpoint: number;
}

/**
 * Whether to checkpoint now: only while work remains, and then on an interruption or once
 * `everyMinutes` have passed (checked after every batch), and at an epoch's end also at a new best or
 * once `everyEpochs` epochs have passed.
 */
export function checkpointDue(policy: CheckpointPolicy, facts: CheckpointFacts): boolean {
  if (!facts.moreToCome) return false;
  if (facts.interrupted || facts.msSinceCheckpoint >= policy.everyMinutes * 60_000) return true;
  return facts.at === 'epoch' && (facts.newBest || facts.epochsSinceCheckpoint >= policy.everyEpochs);
}
