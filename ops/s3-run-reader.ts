import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import { RUNS_PREFIX, runLayout } from '../contracts/run-layout';
import { type RunStatus, RunStatusSchema } from '../contracts/run-status';
import { isNotFound } from '../common/s3-client';
import { callAws, callAwsOrNull } from './aws/call';
import { OpsError } from './errors';
import { parseJson } from '../common/parse-json';

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date | null;
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
    for await (const page of this.pages(this.runsPrefix, '/'))
      for (const p of page.CommonPrefixes ?? [])
        if (p.Prefix) ids.push(p.Prefix.slice(this.runsPrefix.length).replace(/\/$/, ''));
    return ids.sort();
  }

  async list(runId: string, relativePrefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    for await (const page of this.pages(this.key(runId, relativePrefix)))
      for (const o of page.Contents ?? [])
        if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? null });
    return out;
  }

  async head(runId: string, relative: string): Promise<ObjectInfo | null> {
    const key = this.key(runId, relative);
    const res = await callAwsOrNull(
      { action: 's3:GetObject', target: `s3://${this.bucket}/${key}` },
      () => this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })),
      isNotFound,
    );
    return res && { key, size: res.ContentLength ?? 0, lastModified: res.LastModified ?? null };
  }

  /** The object's body as a stream; `fromByte` asks for the rest of it only (HTTP Range). */
  async stream(runId: string, relative: string, fromByte = 0): Promise<Readable> {
    const key = this.key(runId, relative);
    const res = await this.getObject(key, fromByte);
    if (!res) throw new OpsError(`s3://${this.bucket}/${key} does not exist`);
    return res.Body as Readable;
  }

  async getText(runId: string, relative: string): Promise<string | null> {
    const res = await this.getObject(this.key(runId, relative));
    if (!res) return null;
    return res.Body ? await res.Body.transformToString('utf8') : '';
  }

  /** GetObject of a full key, from `fromByte` on (HTTP Range); null when the key does not exist. */
  private getObject(key: string, fromByte = 0): Promise<GetObjectCommandOutput | null> {
    return callAwsOrNull(
      { action: 's3:GetObject', target: `s3://${this.bucket}/${key}` },
      () =>
        this.s3.send(
          new GetObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Range: fromByte > 0 ? `bytes=${fromByte}-` : undefined,
          }),
        ),
      isNotFound,
    );
  }

  /** Every ListObjectsV2 page below a full prefix, grouped by `delimiter` when given. */
  private async *pages(prefix: string, delimiter?: string): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
      const res = await callAws({ action: 's3:ListBucket', target: `s3://${this.bucket}/${prefix}` }, () =>
        this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            Delimiter: delimiter,
            ContinuationToken: token,
            MaxKeys: this.pageSize,
          }),
        ),
      );
      yield res;
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
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
