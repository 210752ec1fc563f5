import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import { RUNS_PREFIX, runLayout } from '../contracts/run-layout';
import { type RunStatus, RunStatusSchema } from '../contracts/run-status';
import { callAws } from './aws/call';
import { OpsError } from './errors';
import { parseJson } from './parse-json';

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date | null;
}

function isMissing(err: unknown): boolean {
  const name = err instanceof Error ? err.name : '';
  const status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return name === 'NoSuchKey' || name === 'NotFound' || status === 404;
}

/**
 * Reads runs from the bucket (`s3://BUCKET/runs/RUN_ID/...`, laid out per contracts/run-layout.ts) with
 * the S3 client directly: the commands need ranges, streams and listings by delimiter, which the
 * trainer's Store does not offer.
 */
export class S3RunReader {
  constructor(
    readonly s3: S3Client,
    readonly bucket: string,
    readonly runsPrefix: string = RUNS_PREFIX,
    /** Keys per ListObjectsV2 page; S3's own maximum (1000) unless a test wants several pages. */
    private readonly pageSize?: number,
  ) {}

  /** Full key of a file of a run, e.g. `runs/20261129-041500/status.json`. */
  key(runId: string, relative: string): string {
    return `${this.runsPrefix}${runId}/${relative}`;
  }

  url(runId: string, relative = ''): string {
    return `s3://${this.bucket}/${this.key(runId, relative)}`;
  }

  /** Run ids present in the bucket, sorted (default run ids sort by start time). */
  async listRunIds(): Promise<string[]> {
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const res = await callAws(
        { action: 's3:ListBucket', target: `s3://${this.bucket}/${this.runsPrefix}` },
        () =>
          this.s3.send(
            new ListObjectsV2Command({
              Bucket: this.bucket,
              Prefix: this.runsPrefix,
              Delimiter: '/',
              ContinuationToken: token,
              MaxKeys: this.pageSize,
            }),
          ),
      );
      for (const p of res.CommonPrefixes ?? [])
        if (p.Prefix) ids.push(p.Prefix.slice(this.runsPrefix.length).replace(/\/$/, ''));
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return ids.sort();
  }

  async list(runId: string, relativePrefix: string): Promise<ObjectInfo[]> {
    const prefix = this.key(runId, relativePrefix);
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const res = await callAws({ action: 's3:ListBucket', target: `s3://${this.bucket}/${prefix}` }, () =>
        this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ContinuationToken: token,
            MaxKeys: this.pageSize,
          }),
        ),
      );
      for (const o of res.Contents ?? [])
        if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? null });
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async head(runId: string, relative: string): Promise<ObjectInfo | null> {
    const key = this.key(runId, relative);
    try {
      const res = await callAws({ action: 's3:GetObject', target: `s3://${this.bucket}/${key}` }, () =>
        this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })),
      );
      return { key, size: res.ContentLength ?? 0, lastModified: res.LastModified ?? null };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  /** The object's body as a stream; `fromByte` asks for the rest of it only (HTTP Range). */
  async stream(runId: string, relative: string, fromByte = 0): Promise<Readable> {
    const key = this.key(runId, relative);
    try {
      const res = await callAws({ action: 's3:GetObject', target: `s3://${this.bucket}/${key}` }, () =>
        this.s3.send(
          new GetObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Range: fromByte > 0 ? `bytes=${fromByte}-` : undefined,
          }),
        ),
      );
      return res.Body as Readable;
    } catch (err) {
      if (isMissing(err)) throw new OpsError(`s3://${this.bucket}/${key} does not exist`);
      throw err;
    }
  }

  async getText(runId: string, relative: string): Promise<string | null> {
    const key = this.key(runId, relative);
    try {
      const res = await callAws({ action: 's3:GetObject', target: `s3://${this.bucket}/${key}` }, () =>
        this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })),
      );
      return res.Body ? await res.Body.transformToString('utf8') : '';
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  /** A JSON object checked against its schema; the error names the object and the failing keys. */
  async getJson<S extends z.ZodType>(runId: string, relative: string, schema: S): Promise<z.infer<S> | null> {
    const text = await this.getText(runId, relative);
    if (text === null) return null;
    return parseJson(text, schema, this.url(runId, relative));
  }

  getStatus(runId: string): Promise<RunStatus | null> {
    return this.getJson(runId, runLayout.status, RunStatusSchema);
  }

  /** When the newest checkpoint of the run was committed (its manifest is written last). */
  async newestCheckpointAt(runId: string): Promise<Date | null> {
    let newest: Date | null = null;
    for (const o of await this.list(runId, runLayout.checkpointsRoot))
      if (
        o.key.endsWith(`/${runLayout.checkpointManifestName}`) &&
        o.lastModified &&
        (!newest || o.lastModified > newest)
      )
        newest = o.lastModified;
    return newest;
  }
}
