/** A parsed `s3://BUCKET/PREFIX` URL; `prefix` is empty or ends with `/`. */
export interface S3Location {
  bucket: string;
  prefix: string;
}

// S3's bucket naming rules (lowercase letters, digits, dots, hyphens; 3-63 characters).
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses `s3://BUCKET` or `s3://BUCKET/PREFIX`; throws naming the expected form and what was found. */
export function parseS3Url(url: string): S3Location {
  const [, bucket, prefix] = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url) ?? [];
  if (bucket === undefined) {
    throw new Error(`expected an S3 URL of the form s3://BUCKET/PREFIX, found "${url}"`);
  }
  if (!BUCKET_PATTERN.test(bucket)) {
    throw new Error(
      `expected a bucket name of 3-63 lowercase letters, digits, dots or hyphens in "${url}", found "${bucket}"`,
    );
  }
  return { bucket, prefix: normalizePrefix(prefix ?? '') };
}

/** `a/b`, `/a/b/`, `a//b` -> `a/b/`; empty stays empty. Rejects `.` and `..` segments, which S3 would keep literally. */
export function normalizePrefix(prefix: string): string {
  const parts = prefix.split('/').filter((p) => p.length > 0);
  const bad = parts.find((p) => p === '.' || p === '..');
  if (bad) throw new Error(`expected a key prefix without "." or ".." segments, found "${prefix}"`);
  return parts.length ? `${parts.join('/')}/` : '';
}

/** The URL of a location, without a trailing slash: `s3://bucket/runs`. */
export function formatS3Url(loc: S3Location): string {
  return `s3://${loc.bucket}${loc.prefix ? `/${loc.prefix.replace(/\/$/, '')}` : ''}`;
}
