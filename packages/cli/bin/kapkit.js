#!/usr/bin/env node
// Entry point of the `kapkit` command: loads the compiled CLI from dist/.
import('../dist/bin.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/bin.js')) {
    process.stderr.write(
      'kapkit: the CLI is not built yet; run "npm run build" at the repository root first.\n',
    );
    process.exitCode = 2;
    return;
  }
  throw error;
});
