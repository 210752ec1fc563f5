const { rmSync } = require('node:fs');

module.exports = async function teardown() {
  const root = process.env.FACEPOINTS_TEST_TEMP_ROOT;
  if (root) rmSync(root, { recursive: true, force: true });
};
