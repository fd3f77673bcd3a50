import { writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import { readRecordedCall } from '../../src/recordings/recorded-call.ts';

/** Writes `bytes` to `path` and checks that reading it fails with one line: '<path>: <problem>'. */
export async function expectOneLineReadError(
  path: string,
  bytes: Uint8Array,
  problem: RegExp,
): Promise<void> {
  writeFileSync(path, bytes);
  const error = await readRecordedCall(path).then(
    () => null,
    (err: Error) => err,
  );
  expect(error?.message.startsWith(`${path}: `)).toBe(true);
  expect(error?.message).toMatch(problem);
  expect(error?.message).not.toContain('\n');
}
