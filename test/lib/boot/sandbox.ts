import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOOT_SCRIPT_PATH } from '../../../lib/boot/boot-user-data';

/**
 * A throw-away machine for the boot script: `docker`, `aws`, `shutdown`, `systemctl`, `curl` and `sleep`
 * are stubs on PATH that record every call; state and unit files live in a temporary folder.
 */

const SEP = '\x1f';

const RECORD = `record() { { printf '%s' "$(basename "$0")"; for a in "$@"; do printf '${'\\x1f'}%s' "$a"; done; printf '\\n'; } >>"$SANDBOX_CALLS"; }`;

const STUBS: Record<string, string> = {
  docker: `#!/bin/bash
${RECORD}
record "$@"
case "$1" in
  login) cat >/dev/null ;;
  pull) if [[ "\${SANDBOX_PULL_FAILS:-}" == 1 ]]; then exit 1; fi ;;
  run)
    if [[ -n "\${JUPYTER_TOKEN:-}" ]]; then
      if [[ "$JUPYTER_TOKEN" == "$SANDBOX_TOKEN" ]]; then echo "docker-env JUPYTER_TOKEN=<the secret>" >>"$SANDBOX_CALLS"; else echo "docker-env JUPYTER_TOKEN=<wrong>" >>"$SANDBOX_CALLS"; fi
    fi
    if [[ " $* " == *" --name facepoints-train "* ]]; then
      code="$(head -n 1 "$SANDBOX_EXIT_CODES" 2>/dev/null || true)"
      sed -i 1d "$SANDBOX_EXIT_CODES" 2>/dev/null || true
      if [[ "$code" == term ]]; then kill -TERM "$PPID"; exit 75; fi
      exit "\${code:-0}"
    fi ;;
esac
exit 0
`,
  aws: `#!/bin/bash
${RECORD}
record "$@"
if [[ "$1 $2" == "s3 cp" && " $* " == *" - "* ]]; then cat >"$SANDBOX_DIR/uploaded-$(basename "\${*: -1}")"; fi
case "$1 $2" in
  "ecr get-login-password") echo ecr-password ;;
  "secretsmanager get-secret-value") echo "\${SANDBOX_TOKEN_OUTPUT-$SANDBOX_TOKEN}" ;;
esac
exit 0
`,
  shutdown: `#!/bin/bash\n${RECORD}\nrecord "$@"\nexit 0\n`,
  systemctl: `#!/bin/bash\n${RECORD}\nrecord "$@"\nexit 0\n`,
  // IMDSv2 as EC2 serves it: a token for the PUT, and spot/instance-action 404 until a reclaim is scheduled.
  curl: `#!/bin/bash
${RECORD}
record "$@"
case " $* " in
  *"/latest/api/token"*) echo imds-token ;;
  *"/spot/instance-action"*) if [[ "\${SANDBOX_SPOT_NOTICE:-}" == 1 ]]; then echo '{"action":"terminate"}'; else exit 22; fi ;;
esac
exit 0
`,
  mountpoint: `#!/bin/bash\n${RECORD}\nrecord "$@"\nexit 1\n`,
  blkid: `#!/bin/bash\n${RECORD}\nrecord "$@"\nexit 2\n`,
  'mkfs.ext4': `#!/bin/bash\n${RECORD}\nrecord "$@"\nexit 0\n`,
  mount: `#!/bin/bash\n${RECORD}\nrecord "$@"\nexit 0\n`,
  // Real waits would make the retry tests take minutes; a short one keeps background loops from spinning.
  sleep: `#!/bin/bash\n${RECORD}\nrecord "$@"\n/bin/sleep 0.05\n`,
};

export const TOKEN = 'jupyter-token-7f3c9a1e';

export const SETTINGS = {
  FACEPOINTS_REGION: 'eu-west-1',
  FACEPOINTS_IMAGE: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/cdk-assets:abc123',
  FACEPOINTS_RUN_ID: 'run-42',
  FACEPOINTS_PRESET: 'seed',
  FACEPOINTS_DATA_URI: 's3://facepoints-bucket/data/',
  FACEPOINTS_OUT_URI: 's3://facepoints-bucket/runs',
  FACEPOINTS_LOG_GROUP: '/facepoints/training',
  FACEPOINTS_INSTANCE_TYPE: 'g4dn.xlarge',
  FACEPOINTS_MAX_HOURS: '12',
  FACEPOINTS_MAX_ATTEMPTS: '3',
  FACEPOINTS_JUPYTER: 'false',
};

export interface Call {
  cmd: string;
  args: string[];
}

export interface BootResult {
  status: number | null;
  stderr: string;
  stdout: string;
  calls: Call[];
}

export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'facepoints-boot-'));
  readonly stateDir = join(this.dir, 'state');
  readonly systemdDir = join(this.dir, 'systemd');
  /** The host folder mounted into the trainer container as its scratch space. */
  readonly scratchDir = join(this.dir, 'scratch');
  private readonly binDir = join(this.dir, 'bin');
  private readonly callsFile = join(this.dir, 'calls');
  private readonly exitCodesFile = join(this.dir, 'exit-codes');

  constructor() {
    mkdirSync(this.binDir);
    for (const [name, body] of Object.entries(STUBS)) {
      writeFileSync(join(this.binDir, name), body);
      chmodSync(join(this.binDir, name), 0o755);
    }
  }

  /** Gives the machine an NVMe instance store device (a plain file here). */
  addInstanceStore(): string {
    mkdirSync(join(this.dir, 'dev'), { recursive: true });
    const device = join(this.dir, 'dev', 'nvme-Amazon_EC2_NVMe_Instance_Storage_AWS1234');
    writeFileSync(device, '');
    return device;
  }

  /** What the boot script uploaded with `aws s3 cp - URL`, by the URL's last path part; null if nothing. */
  uploaded(name: string): string | null {
    const file = join(this.dir, `uploaded-${name}`);
    return existsSync(file) ? readFileSync(file, 'utf8') : null;
  }

  /** Exit codes the trainer container returns, in order (`term` = SIGTERM to the script, then exit 75). */
  trainerExits(...codes: (number | 'term')[]): void {
    writeFileSync(this.exitCodesFile, codes.map(String).join('\n') + (codes.length ? '\n' : ''));
  }

  /** Runs the boot script as one boot would; the calls are those of this boot only. */
  boot(mode: 'run' | 'install', overrides: Record<string, string> = {}): BootResult {
    writeFileSync(this.callsFile, '');
    const result = spawnSync('bash', [BOOT_SCRIPT_PATH, mode], {
      encoding: 'utf8',
      timeout: 30000,
      env: {
        PATH: `${this.binDir}:${process.env.PATH}`,
        HOME: this.dir,
        SANDBOX_CALLS: this.callsFile,
        SANDBOX_EXIT_CODES: this.exitCodesFile,
        SANDBOX_TOKEN: TOKEN,
        FACEPOINTS_STATE_DIR: this.stateDir,
        FACEPOINTS_SYSTEMD_DIR: this.systemdDir,
        FACEPOINTS_SYNC_SECONDS: '1',
        SANDBOX_DIR: this.dir,
        FACEPOINTS_HOST_SCRATCH_DIR: this.scratchDir,
        FACEPOINTS_INSTANCE_STORE_GLOB: join(this.dir, 'dev', 'nvme-Amazon_EC2_NVMe_Instance_Storage_*'),
        ...SETTINGS,
        ...overrides,
      },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls: this.readCalls() };
  }

  state(name: string): string | undefined {
    const file = join(this.stateDir, name);
    return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  }

  rawCalls(): string {
    return readFileSync(this.callsFile, 'utf8');
  }

  private readCalls(): Call[] {
    return this.rawCalls()
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => {
        const [cmd, ...args] = line.split(SEP);
        return { cmd: cmd ?? '', args };
      });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// A missing call (`calls.at(-1)` of an empty list) is none of these.
export const isTrainerRun = (c: Call | undefined) =>
  c?.cmd === 'docker' && c.args[0] === 'run' && c.args.includes('facepoints-train');
export const isPowerOff = (c: Call | undefined) =>
  c?.cmd === 'shutdown' && c.args[0] === '-h' && c.args[1] === 'now';
export const isScheduledPowerOff = (c: Call | undefined) =>
  c?.cmd === 'shutdown' && c.args[0] === '-h' && /^\+\d+$/.test(c.args[1] ?? '');

/** The arguments after the image: what the container's ENTRYPOINT receives. */
export function trainerArgs(call: Call): string[] {
  const at = call.args.indexOf(SETTINGS.FACEPOINTS_IMAGE);
  if (at < 0)
    throw new Error(
      `expected the image ${SETTINGS.FACEPOINTS_IMAGE} in docker run, found: ${call.args.join(' ')}`,
    );
  return call.args.slice(at + 1);
}

/** Value following a flag in an argument list. */
export function flagValue(args: string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at < 0 ? undefined : args[at + 1];
}
