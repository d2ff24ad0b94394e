// `npm start`: a tour of what kapkit does today, on synthetic data only (examples/*.ndjson).
// Runs after `turbo run build`; uses the same `kapkit` CLI a user would.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'packages', 'cli', 'bin', 'kapkit.js');

function kapkit(args) {
  process.stdout.write(`\n$ kapkit ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', cwd: root });
  return r.status ?? 1;
}

console.log('kapkit: outcome tracking for ketamine-assisted psychotherapy. All data below is synthetic.');
kapkit(['instruments']);
// The example file contains one deliberately invalid record (an answer of 4), so this exits 1: expected.
kapkit(['score', '--instrument', 'PHQ-9', 'examples/phq9-synthetic.ndjson']);
console.log('\nThe last synthetic record is invalid on purpose: it shows the per-line error, and that its');
console.log('positive item 9 is still reported. Run `npx kapkit --help` for every command.');
