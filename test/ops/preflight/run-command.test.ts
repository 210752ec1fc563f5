import { runCommand } from '../../../ops/preflight/run-command';

test('runs a program without a shell and returns its exit code and output', async () => {
  expect(
    await runCommand(process.execPath, [
      '-e',
      'process.stdout.write("out"); process.stderr.write("err"); process.exit(3)',
    ]),
  ).toEqual({
    code: 3,
    stdout: 'out',
    stderr: 'err',
  });
});

test('a program that is not installed has no exit code; one past its timeout is killed', async () => {
  expect(await runCommand('facepoints-no-such-program', [])).toMatchObject({
    code: null,
    stderr: expect.stringContaining('ENOENT'),
  });
  expect((await runCommand(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], 200)).code).toBeNull();
});
