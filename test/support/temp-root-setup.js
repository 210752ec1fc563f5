// Every temporary file of a test run, the tests' own and those the trainer makes under os.tmpdir() (its
// default scratch folder, caches), goes into one folder that the teardown removes: one `npm test`
// leaves nothing behind in the OS temp dir, even when a test fails before its own cleanup.
const { chmodSync, mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async function setup() {
  const root = mkdtempSync(join(tmpdir(), 'facepoints-test-'));
  // Sticky and world-writable like /tmp itself: the image tests run the trainer as another user (uid
  // 10001), which must reach its files here and make its own scratch folder.
  chmodSync(root, 0o1777);
  process.env.FACEPOINTS_TEST_TEMP_ROOT = root;
  // Workers and the processes tests spawn inherit this environment, so os.tmpdir() and mktemp use it.
  process.env.TMPDIR = root;
};
