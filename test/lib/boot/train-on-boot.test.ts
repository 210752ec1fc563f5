import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BOOT_SCRIPT_PATH } from '../../../lib/boot/boot-user-data';
import { EXIT_INTERRUPTED, EXIT_USAGE, RunStatusSchema } from '../../../contracts/run-status';
import {
  SETTINGS,
  Sandbox,
  TOKEN,
  flagValue,
  isPowerOff,
  isScheduledPowerOff,
  isTrainerRun,
  trainerArgs,
} from './sandbox';
import { at, present } from '../../support/checked';

const JUPYTER = {
  FACEPOINTS_JUPYTER: 'true',
  FACEPOINTS_JUPYTER_IMAGE: 'quay.io/jupyter/minimal-notebook:2026-04-02',
  FACEPOINTS_JUPYTER_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-AbCdEf',
};

let sandbox: Sandbox;
beforeEach(() => {
  sandbox = new Sandbox();
});
afterEach(() => sandbox.remove());

describe('train-on-boot.sh', () => {
  it('is shellcheck-clean', () => {
    const result = spawnSync('shellcheck', [BOOT_SCRIPT_PATH], { encoding: 'utf8' });
    if (result.error)
      throw new Error(
        `shellcheck did not run (install it with apt-get install shellcheck): ${result.error.message}`,
      );
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('uses the exit codes the trainer defines', () => {
    const script = readFileSync(BOOT_SCRIPT_PATH, 'utf8');
    expect(script).toContain(`readonly EXIT_INTERRUPTED=${EXIT_INTERRUPTED}`);
    expect(script).toContain(`readonly EXIT_USAGE=${EXIT_USAGE}`);
  });

  it('on success: schedules the max-hours power-off first, runs the trainer once, then powers off', () => {
    sandbox.trainerExits(0);
    const boot = sandbox.boot('run');
    expect(boot.status).toBe(0);
    expect(isScheduledPowerOff(boot.calls[0])).toBe(true);
    // 12 hours from now, rounded up to whole minutes.
    expect(at(boot.calls, 0, 'a first command').args[1]).toBe('+720');
    const runs = boot.calls.filter(isTrainerRun);
    expect(runs).toHaveLength(1);
    expect(isPowerOff(boot.calls[boot.calls.length - 1])).toBe(true);
    expect(boot.calls.filter(isPowerOff)).toHaveLength(1);
    expect(sandbox.state('finished')).toBe('succeeded');
  });

  it('logs in to ECR and pulls the image before running it', () => {
    sandbox.trainerExits(0);
    const { calls } = sandbox.boot('run');
    const order = (pred: (c: (typeof calls)[number]) => boolean) => calls.findIndex(pred);
    const login = order((c) => c.cmd === 'docker' && c.args[0] === 'login');
    const pull = order((c) => c.cmd === 'docker' && c.args[0] === 'pull');
    expect(present(calls[login], 'a docker login').args).toEqual([
      'login',
      '--username',
      'AWS',
      '--password-stdin',
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
    ]);
    expect(calls.find((c) => c.cmd === 'aws')?.args).toEqual([
      'ecr',
      'get-login-password',
      '--region',
      'eu-west-1',
    ]);
    expect(present(calls[pull], 'a docker pull').args).toContain(SETTINGS.FACEPOINTS_IMAGE);
    expect(login).toBeLessThan(pull);
    expect(pull).toBeLessThan(order(isTrainerRun));
  });

  it('runs the trainer container on the GPU with the run settings and the awslogs driver', () => {
    sandbox.trainerExits(0);
    const run = sandbox.boot('run').calls.find(isTrainerRun)!;
    expect(run.args).toEqual(expect.arrayContaining(['--gpus', 'all', '--log-driver', 'awslogs']));
    expect(run.args).toEqual(
      expect.arrayContaining([
        'awslogs-region=eu-west-1',
        'awslogs-group=/facepoints/training',
        'awslogs-stream=run-42/attempt-1',
        'AWS_REGION=eu-west-1',
        'FACEPOINTS_ON_EC2=1',
        'FACEPOINTS_INSTANCE_TYPE=g4dn.xlarge',
      ]),
    );
    expect(trainerArgs(run)).toEqual([
      'train',
      '--data',
      's3://facepoints-bucket/data/',
      '--out',
      's3://facepoints-bucket/runs',
      '--run',
      'run-42',
      '--preset',
      'seed',
      '--require-gpu',
    ]);
  });

  it('on repeated failure: retries up to maxAttempts, then gives up and powers off', () => {
    sandbox.trainerExits(1, 2, 3, 0);
    const boot = sandbox.boot('run');
    expect(boot.status).toBe(0);
    expect(boot.calls.filter(isTrainerRun)).toHaveLength(3);
    expect(isPowerOff(boot.calls[boot.calls.length - 1])).toBe(true);
    expect(sandbox.state('failures')).toBe('3');
    expect(sandbox.state('finished')).toBe('failed after 3 attempts (last exit 3)');
    // Each retry waits before starting again.
    expect(boot.calls.filter((c) => c.cmd === 'sleep' && c.args[0] === '60')).toHaveLength(2);
  });

  it('recovers when a failed attempt is followed by a successful one', () => {
    sandbox.trainerExits(1, 0);
    const boot = sandbox.boot('run');
    const runs = boot.calls.filter(isTrainerRun);
    expect(runs).toHaveLength(2);
    expect(at(runs, 1, 'a second trainer run').args).toContain('awslogs-stream=run-42/attempt-2');
    expect(sandbox.state('finished')).toBe('succeeded');
    expect(isPowerOff(boot.calls[boot.calls.length - 1])).toBe(true);
  });

  it(`treats exit ${EXIT_INTERRUPTED} as "resume", not as a failure`, () => {
    sandbox.trainerExits(EXIT_INTERRUPTED, EXIT_INTERRUPTED, 1, 1, 0);
    const boot = sandbox.boot('run', { FACEPOINTS_MAX_ATTEMPTS: '3' });
    // Two interruptions and two failures still leave the third failure allowance: the fifth run succeeds.
    const runs = boot.calls.filter(isTrainerRun);
    expect(runs).toHaveLength(5);
    expect(runs.map((r) => flagValue(trainerArgs(r), '--run'))).toEqual(Array(5).fill('run-42'));
    expect(sandbox.state('finished')).toBe('succeeded');
    expect(sandbox.state('failures')).toBe('2');
  });

  it(`does not retry exit ${EXIT_USAGE} (bad configuration or data)`, () => {
    sandbox.trainerExits(EXIT_USAGE, 0);
    const boot = sandbox.boot('run');
    expect(boot.calls.filter(isTrainerRun)).toHaveLength(1);
    expect(isPowerOff(boot.calls[boot.calls.length - 1])).toBe(true);
    expect(sandbox.state('finished')).toMatch(/^failed: bad configuration or data/);
  });

  it("gives the container a scratch folder its user owns, with a persistent CUDA kernel cache of CUDA's maximum size", () => {
    sandbox.trainerExits(0);
    const run = sandbox.boot('run').calls.find(isTrainerRun)!;
    expect(run.args).toEqual(
      expect.arrayContaining([
        `${sandbox.scratchDir}:/scratch`,
        'FACEPOINTS_SCRATCH_DIR=/scratch',
        'CUDA_CACHE_PATH=/scratch/cuda-cache',
        'CUDA_CACHE_MAXSIZE=4294967296',
      ]),
    );
    const { statSync } = require('node:fs') as typeof import('node:fs');
    expect(statSync(join(sandbox.scratchDir, 'cuda-cache')).uid).toBe(10001);
    expect(statSync(sandbox.scratchDir).uid).toBe(10001);
  });

  it('puts the scratch folder on the NVMe instance store when there is one, formatting it only when blank', () => {
    sandbox.trainerExits(0);
    const device = sandbox.addInstanceStore();
    const { calls } = sandbox.boot('run');
    expect(calls.filter((c) => c.cmd === 'mkfs.ext4').map((c) => c.args)).toEqual([['-q', '-F', device]]);
    expect(calls.filter((c) => c.cmd === 'mount').map((c) => c.args)).toEqual([[device, sandbox.scratchDir]]);
    expect(calls.findIndex((c) => c.cmd === 'mount')).toBeLessThan(calls.findIndex(isTrainerRun));
  });

  it('uses the root volume when the instance has no instance store', () => {
    sandbox.trainerExits(0);
    const { calls } = sandbox.boot('run');
    expect(calls.filter((c) => c.cmd === 'mkfs.ext4' || c.cmd === 'mount')).toEqual([]);
    expect(calls.find(isTrainerRun)!.args).toContain(`${sandbox.scratchDir}:/scratch`);
  });

  it('does not restart an interrupted trainer on a spot instance that EC2 is reclaiming', () => {
    sandbox.trainerExits(EXIT_INTERRUPTED, 0);
    const boot = sandbox.boot('run', { SANDBOX_SPOT_NOTICE: '1' });
    expect(boot.calls.filter(isTrainerRun)).toHaveLength(1);
    expect(boot.stderr).toContain('spot reclaim notice: not restarting the trainer on this instance');
    expect(isPowerOff(boot.calls[boot.calls.length - 1])).toBe(true);
  });

  it("when the image cannot be pulled: writes the step and the last lines to the run's status.json and to the log group, then powers off", () => {
    sandbox.trainerExits(0);
    const boot = sandbox.boot('run', { SANDBOX_PULL_FAILS: '1' });
    const status = RunStatusSchema.parse(JSON.parse(sandbox.uploaded('status.json') ?? 'null'));
    expect(status).toEqual(
      expect.objectContaining({
        runId: 'run-42',
        state: 'failed',
        phase: 'boot: image-pull',
        instanceType: 'g4dn.xlarge',
      }),
    );
    expect(status.error).toMatch(/^boot step image-pull failed: exit 1\n/);
    expect(status.error).toContain(`pulling ${SETTINGS.FACEPOINTS_IMAGE} failed (attempt 3 of 3)`);
    const upload = boot.calls.find((c) => c.cmd === 'aws' && c.args[0] === 's3' && c.args[1] === 'cp')!;
    expect(upload.args.at(-1)).toBe('s3://facepoints-bucket/runs/run-42/status.json');
    const put = boot.calls.find((c) => c.cmd === 'aws' && c.args[1] === 'put-log-events')!;
    expect(flagValue(put.args, '--log-group-name')).toBe('/facepoints/training');
    expect(flagValue(put.args, '--log-stream-name')).toMatch(/^run-42\/boot-/);
    expect(JSON.parse(flagValue(put.args, '--log-events')!)[0].message).toContain(
      'boot step image-pull failed',
    );
    const last = boot.calls.findIndex((c) => c.cmd === 'aws' && c.args[1] === 'put-log-events');
    expect(last).toBeLessThan(boot.calls.findIndex(isPowerOff));
  });

  it('reports a trainer container that Docker could not start (exit 125 and up), since the trainer wrote nothing', () => {
    sandbox.trainerExits(125, 125, 125);
    sandbox.boot('run');
    const status = RunStatusSchema.parse(JSON.parse(sandbox.uploaded('status.json') ?? 'null'));
    expect(status.phase).toBe('boot: train');
    expect(status.error).toContain('the trainer container exited 125 3 times');
  });

  it('leaves the status to the trainer when the trainer itself failed', () => {
    sandbox.trainerExits(1, 1, 1);
    sandbox.boot('run');
    expect(sandbox.uploaded('status.json')).toBeNull();
  });

  it('powers off when the image cannot be pulled, after three tries', () => {
    sandbox.trainerExits(0);
    const boot = sandbox.boot('run', { SANDBOX_PULL_FAILS: '1' });
    expect(boot.calls.filter((c) => c.cmd === 'docker' && c.args[0] === 'pull')).toHaveLength(3);
    expect(boot.calls.filter(isTrainerRun)).toHaveLength(0);
    expect(isPowerOff(boot.calls[boot.calls.length - 1])).toBe(true);
  });

  it('a reboot in the middle of a run resumes the same run id on the next boot, within the first deadline', () => {
    // First boot: the system shuts down while the trainer runs (SIGTERM, trainer exits 75).
    sandbox.trainerExits('term');
    const first = sandbox.boot('run');
    expect(first.status).toBe(143);
    expect(first.calls.filter(isPowerOff)).toHaveLength(0);
    expect(sandbox.state('finished')).toBeUndefined();
    const deadline = sandbox.state('deadline');

    sandbox.trainerExits(0);
    const second = sandbox.boot('run');
    expect(isScheduledPowerOff(second.calls[0])).toBe(true);
    const powerOffAt = present(at(second.calls, 0, 'a first command').args[1], 'a power-off time');
    expect(Number(powerOffAt.slice(1))).toBeLessThanOrEqual(720);
    expect(sandbox.state('deadline')).toBe(deadline);
    const runs = second.calls.filter(isTrainerRun);
    expect(runs).toHaveLength(1);
    const run = at(runs, 0, 'the trainer run');
    expect(flagValue(trainerArgs(run), '--run')).toBe('run-42');
    // Attempt numbers continue, so log streams of the two boots do not mix.
    expect(run.args).toContain('awslogs-stream=run-42/attempt-2');
    expect(sandbox.state('finished')).toBe('succeeded');
  });

  it('a second boot after the run finished starts nothing and powers off', () => {
    sandbox.trainerExits(0);
    sandbox.boot('run');
    sandbox.trainerExits(0);
    const second = sandbox.boot('run');
    expect(second.calls.filter(isTrainerRun)).toHaveLength(0);
    expect(isScheduledPowerOff(second.calls[0])).toBe(true);
    expect(isPowerOff(second.calls[second.calls.length - 1])).toBe(true);
  });

  it('a second boot after giving up does not try again', () => {
    sandbox.trainerExits(1, 1, 1);
    sandbox.boot('run');
    sandbox.trainerExits(0);
    const second = sandbox.boot('run');
    expect(second.calls.filter(isTrainerRun)).toHaveLength(0);
    expect(isPowerOff(second.calls[second.calls.length - 1])).toBe(true);
  });

  it('powers off at once when booted after the max-hours deadline', () => {
    sandbox.trainerExits(0);
    sandbox.boot('run');
    // Pretend the deadline fixed on the first boot passed a minute ago.
    const past = Math.floor(Date.now() / 1000) - 60;
    writeFileSync(join(sandbox.stateDir, 'deadline'), `${past}\n`);
    rmSync(join(sandbox.stateDir, 'finished'));
    const late = sandbox.boot('run');
    expect(late.calls).toHaveLength(1);
    expect(isPowerOff(late.calls[0])).toBe(true);
  });

  it('install: schedules the power-off before anything else, then installs and starts the systemd unit', () => {
    const boot = sandbox.boot('install');
    expect(boot.status).toBe(0);
    expect(isScheduledPowerOff(boot.calls[0])).toBe(true);
    expect(boot.calls.slice(1).map((c) => [c.cmd, ...c.args].join(' '))).toEqual([
      'systemctl daemon-reload',
      'systemctl enable facepoints-train.service',
      'systemctl start --no-block facepoints-train.service',
    ]);
    const unit = readFileSync(join(sandbox.systemdDir, 'facepoints-train.service'), 'utf8');
    expect(unit).toContain('ExecStart=/opt/facepoints/train-on-boot.sh run');
    expect(unit).toContain('EnvironmentFile=/etc/facepoints/run.env');
    expect(unit).toContain('Requires=docker.service');
    expect(unit).toContain('WantedBy=multi-user.target');
    expect(boot.calls.filter(isTrainerRun)).toHaveLength(0);
  });

  it('with jupyter: fetches the token from Secrets Manager and never puts it on a command line or in the log', () => {
    sandbox.trainerExits(0);
    const boot = sandbox.boot('run', JUPYTER);
    expect(boot.status).toBe(0);
    const fetch = boot.calls.find((c) => c.cmd === 'aws' && c.args[0] === 'secretsmanager');
    expect(fetch?.args).toEqual(
      expect.arrayContaining(['get-secret-value', '--secret-id', JUPYTER.FACEPOINTS_JUPYTER_SECRET_ARN]),
    );
    const jupyter = boot.calls.find(
      (c) => c.cmd === 'docker' && c.args[0] === 'run' && c.args.includes('facepoints-jupyter'),
    );
    expect(jupyter?.args).toEqual(
      expect.arrayContaining(['--publish', '8888:8888', '--env', 'JUPYTER_TOKEN']),
    );
    expect(jupyter?.args.find((a) => a.endsWith(':/home/jovyan/run:ro'))).toBe(
      `${join(sandbox.stateDir, 'run-view')}:/home/jovyan/run:ro`,
    );
    expect(sandbox.rawCalls()).toContain('docker-env JUPYTER_TOKEN=<the secret>');
    // The token reaches the container through the environment only.
    const everything = sandbox.rawCalls() + boot.stdout + boot.stderr;
    expect(everything).not.toContain(TOKEN);
    expect(boot.calls.filter(isTrainerRun)).toHaveLength(1);
    expect(isPowerOff(boot.calls[boot.calls.length - 1])).toBe(true);
  });

  it('with jupyter: starts no unauthenticated JupyterLab when the token is empty, and still trains', () => {
    sandbox.trainerExits(0);
    const boot = sandbox.boot('run', { ...JUPYTER, SANDBOX_TOKEN_OUTPUT: '' });
    expect(boot.stderr).toContain('the JupyterLab token secret is empty');
    expect(
      boot.calls.filter(
        (c) => c.cmd === 'docker' && c.args[0] === 'run' && c.args.includes('facepoints-jupyter'),
      ),
    ).toHaveLength(0);
    expect(boot.calls.filter(isTrainerRun)).toHaveLength(1);
    expect(isPowerOff(boot.calls[boot.calls.length - 1])).toBe(true);
  });

  it('powers off at once when even the max-hours setting is missing', () => {
    const boot = sandbox.boot('run', { FACEPOINTS_MAX_HOURS: '' });
    expect(boot.stderr).toContain('missing setting FACEPOINTS_MAX_HOURS');
    // Only the failure report comes before the power-off: nothing else can run without a deadline.
    expect(boot.calls.map((c) => `${c.cmd} ${c.args.slice(0, 2).join(' ')}`)).toEqual([
      'aws s3 cp',
      'aws logs create-log-stream',
      'aws logs put-log-events',
      'shutdown -h now',
    ]);
    expect(RunStatusSchema.parse(JSON.parse(sandbox.uploaded('status.json')!)).phase).toBe('boot: settings');
  });

  it('refuses to run without its settings', () => {
    const boot = sandbox.boot('run', { FACEPOINTS_IMAGE: '' });
    expect(boot.stderr).toContain('missing setting FACEPOINTS_IMAGE');
    expect(boot.calls.filter(isTrainerRun)).toHaveLength(0);
    // Still powers off: an instance that cannot train must not idle until max hours.
    expect(isPowerOff(boot.calls[boot.calls.length - 1])).toBe(true);
    expect(existsSync(join(sandbox.stateDir, 'finished'))).toBe(false);
  });
});
