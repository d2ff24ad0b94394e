import { runCli } from './cli.js';
import { isClosedPipe } from './io.js';

// A reader that stops early (`kapkit validate big.ndjson | head`) closes the pipe: stop quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (isClosedPipe(e)) process.exit(0);
    throw e;
  });
}

runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
);
