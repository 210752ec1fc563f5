/** Wall and CPU time of a series of training steps, after warm-up steps that are not timed. */
export interface StepTimes {
  /** Wall milliseconds of each timed step, in order. */
  wallMs: number[];
  /** CPU milliseconds (user + system, every thread of the process, workers included) of all timed steps. */
  cpuMs: number;
}

export interface TimeStepsOptions {
  /** Untimed steps first: they pay for tfjs's warm-up (kernel setup, weight upload, JIT), which a run does once. */
  warmup: number;
  steps: number;
  /** Called after the warm-up and after each timed step (index from 0), outside the timings. */
  afterWarmup?: () => void;
  afterStep?: (i: number) => void;
}

/**
 * The one way training speed is measured, by the run's speed probe and by the benchmark: `step(i)` runs
 * step i (i counts warm-up steps too) and resolves once its loss is read, so asynchronous backends have
 * finished it.
 */
export async function timeSteps(
  step: (i: number) => Promise<unknown>,
  opts: TimeStepsOptions,
): Promise<StepTimes> {
  for (let i = 0; i < opts.warmup; i++) await step(i);
  opts.afterWarmup?.();
  const wallMs: number[] = [];
  let cpuMs = 0;
  for (let i = 0; i < opts.steps; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await step(opts.warmup + i);
    wallMs.push(performance.now() - t0);
    const cpu = process.cpuUsage(cpu0);
    cpuMs += (cpu.user + cpu.system) / 1000;
    opts.afterStep?.(i);
  }
  return { wallMs, cpuMs };
}
