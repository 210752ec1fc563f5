/** Why a run was asked to stop: the signal's name or an EC2 spot interruption notice. */
export type InterruptionReason = 'SIGTERM' | 'SIGINT' | 'spot-interruption';

export interface WatchInterruptionsOptions {
  log: (line: string) => void;
  /** Poll the instance metadata service for a spot interruption notice. @default true when FACEPOINTS_ON_EC2=1 */
  pollSpotNotice?: boolean;
  /** IMDS base URL. @default AWS_EC2_METADATA_SERVICE_ENDPOINT or http://169.254.169.254 */
  imdsEndpoint?: string;
  /** Time between polls; EC2 gives two minutes of notice. @default 5000 */
  pollMs?: number;
}

const TOKEN_TTL_SECONDS = 21600;

/**
 * An AbortSignal that is aborted, with an InterruptionReason as its reason, on SIGTERM (docker stop),
 * SIGINT (Ctrl-C) or an EC2 spot interruption notice. The trainer then checkpoints, flushes and exits with
 * EXIT_INTERRUPTED. A second signal while that is under way exits at once (128 + signal number).
 */
export function watchInterruptions(opts: WatchInterruptionsOptions): {
  signal: AbortSignal;
  dispose(): void;
} {
  const controller = new AbortController();
  const abort = (reason: InterruptionReason, detail: string): void => {
    if (controller.signal.aborted) return;
    opts.log(`interrupted: ${detail}; saving a checkpoint and stopping`);
    controller.abort(reason);
  };

  const handlers: Array<[NodeJS.Signals, () => void]> = (['SIGTERM', 'SIGINT'] as const).map((name) => [
    name,
    () => {
      if (controller.signal.aborted) {
        opts.log(`interrupted: second ${name}, exiting without waiting for the checkpoint`);
        process.exit(128 + (name === 'SIGINT' ? 2 : 15));
      }
      abort(name, `received ${name}`);
    },
  ]);
  for (const [name, handler] of handlers) process.on(name, handler);

  let timer: NodeJS.Timeout | undefined;
  let disposed = false;
  const poll = opts.pollSpotNotice ?? process.env.FACEPOINTS_ON_EC2 === '1';
  if (poll) {
    const endpoint = (
      opts.imdsEndpoint ??
      process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT ??
      'http://169.254.169.254'
    ).replace(/\/$/, '');
    const imds = new SpotNoticePoller(endpoint, opts.log);
    const tick = async (): Promise<void> => {
      const notice = await imds.check();
      if (disposed) return;
      if (notice) abort('spot-interruption', `EC2 spot interruption notice (${notice})`);
      else timer = setTimeout(() => void tick(), opts.pollMs ?? 5000).unref();
    };
    void tick();
  }

  return {
    signal: controller.signal,
    dispose: () => {
      disposed = true;
      clearTimeout(timer);
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}

/** IMDSv2: a session token from PUT /latest/api/token, then GET of the spot instance-action (404 = no notice). */
class SpotNoticePoller {
  private token: string | null = null;
  private tokenExpires = 0;
  private warned = false;

  constructor(
    private readonly endpoint: string,
    private readonly log: (line: string) => void,
  ) {}

  /** The notice's text when there is one, else null (also when IMDS cannot be reached: that is logged once). */
  async check(): Promise<string | null> {
    try {
      let res = await this.getAction();
      if (res.status === 401) {
        this.token = null;
        res = await this.getAction();
      }
      if (res.status === 404) return null;
      if (res.status === 200) {
        const body = await res.text();
        try {
          const parsed = JSON.parse(body) as { action?: string; time?: string };
          return `${parsed.action ?? 'stop'} at ${parsed.time ?? 'an unknown time'}`;
        } catch {
          return body.trim() || 'no details';
        }
      }
      throw new Error(`GET /latest/meta-data/spot/instance-action answered HTTP ${res.status}`);
    } catch (err) {
      if (!this.warned) {
        this.warned = true;
        this.log(
          `interruptions: cannot poll the spot notice at ${this.endpoint} (${(err as Error).message}); will keep trying`,
        );
      }
      return null;
    }
  }

  private async getAction(): Promise<Response> {
    const token = await this.sessionToken();
    return fetch(`${this.endpoint}/latest/meta-data/spot/instance-action`, {
      headers: { 'X-aws-ec2-metadata-token': token },
      signal: AbortSignal.timeout(2000),
    });
  }

  private async sessionToken(): Promise<string> {
    if (this.token && Date.now() < this.tokenExpires) return this.token;
    const res = await fetch(`${this.endpoint}/latest/api/token`, {
      method: 'PUT',
      headers: { 'X-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_SECONDS) },
      signal: AbortSignal.timeout(2000),
    });
    if (res.status !== 200) throw new Error(`PUT /latest/api/token answered HTTP ${res.status}`);
    this.token = (await res.text()).trim();
    // Renew a minute early so a poll never carries an expired token.
    this.tokenExpires = Date.now() + (TOKEN_TTL_SECONDS - 60) * 1000;
    return this.token;
  }
}
