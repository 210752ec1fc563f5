import type { z } from 'zod';

/**
 * Parses JSON and checks it against a schema; errors name the file and every failing key. Every file the
 * trainer reads back and every file the operator commands read goes through here.
 */
export function parseJson<S extends z.ZodType>(text: string, schema: S, where: string): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(
      `${where}: expected JSON, found unparsable text (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${where}: unexpected content: ${issues}`);
  }
  return parsed.data;
}
