import { z } from 'zod';
import { parseJson } from '../../common/parse-json';

const Schema = z.object({ runId: z.string(), models: z.array(z.object({ devRmsePx: z.number() })) });

describe('parseJson', () => {
  it('returns the parsed value when the text matches the schema', () => {
    expect(parseJson('{"runId":"r1","models":[{"devRmsePx":1.5}]}', Schema, 'summary.json')).toEqual({
      runId: 'r1',
      models: [{ devRmsePx: 1.5 }],
    });
  });

  it('names the file when the text is not JSON', () => {
    expect(() => parseJson('{"runId":', Schema, 's3://b/runs/r1/report/summary.json')).toThrow(
      /^s3:\/\/b\/runs\/r1\/report\/summary\.json: expected JSON, found unparsable text/,
    );
  });

  it('names the file and every failing key', () => {
    expect(() => parseJson('{"runId":7,"models":[{"devRmsePx":"x"}]}', Schema, 'summary.json')).toThrow(
      /^summary\.json: unexpected content: runId: .*; models\.0\.devRmsePx: /,
    );
  });
});
