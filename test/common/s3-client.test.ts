import { describeError, isNotFound, isPermanentS3Error, s3ClientConfig } from '../../common/s3-client';

describe('s3ClientConfig', () => {
  it('takes region, endpoint and keys from the environment and addresses a local server path-style', () => {
    const config = s3ClientConfig({
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000',
      AWS_ACCESS_KEY_ID: 'AKID',
      AWS_SECRET_ACCESS_KEY: 'secret',
    });
    expect(config).toEqual(
      expect.objectContaining({
        region: 'eu-west-1',
        endpoint: 'http://127.0.0.1:9000',
        credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: undefined },
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED',
      }),
    );
  });

  it('leaves what the environment does not give to the default chain', () => {
    const config = s3ClientConfig({});
    expect(config.region).toBeUndefined();
    expect(config.endpoint).toBeUndefined();
    expect(config.credentials).toBeUndefined();
    expect(config.forcePathStyle).toBe(false);
  });
});

describe('S3 errors', () => {
  const answered = (name: string, status: number) =>
    Object.assign(new Error(`${name} message`), { name, $metadata: { httpStatusCode: status } });

  it('tells a missing object, a refusal and a retryable answer apart', () => {
    expect(isNotFound(answered('NoSuchKey', 404))).toBe(true);
    expect(isPermanentS3Error(answered('AccessDenied', 403))).toBe(true);
    expect(isPermanentS3Error(answered('SlowDown', 503))).toBe(false);
    expect(isPermanentS3Error(answered('RequestTimeTooSkewed', 403))).toBe(false);
    expect(isPermanentS3Error(new Error('socket hang up'))).toBe(false);
  });

  it('describes an error in one line with its name and status', () => {
    expect(describeError(answered('AccessDenied', 403))).toBe('AccessDenied: HTTP 403: AccessDenied message');
    expect(describeError('plain')).toBe('plain');
  });
});
