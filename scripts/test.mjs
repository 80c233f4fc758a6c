// npm test: runs the uvu suite (with GC exposed, for the memory tests) and fails unless every test ran and passed.
// uvu reports a suite whose before() hook threw as "(0 / N)" and still exits 0; this wrapper counts instead, and
// prints the plain closing line "N passed, N failed".
import { execFileSync, spawn } from 'node:child_process';

// Kernels are embedded from kernels/*.wgsl: refresh them so that an edited kernel is the one tested.
execFileSync(process.execPath, ['scripts/embed-kernels.mjs'], { stdio: 'inherit' });

// test/fixtures/ holds scripts that tests run as child processes, not tests.
const args = ['--expose-gc', 'node_modules/uvu/bin.js', '-r', 'tsx', '-i', 'fixtures', '-i', 'support', 'test', ...process.argv.slice(2)];
const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
let output = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  output += chunk.toString();
});
child.on('close', (code) => {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const number = (label) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(plain)?.[1] ?? NaN);
  const total = number('Total');
  const passed = number('Passed');
  const skipped = number('Skipped') || 0;
  const failed = Number.isNaN(total) || Number.isNaN(passed) ? NaN : total - passed - skipped;
  if (!(failed === 0) || code !== 0) {
    console.error(`\nnpm test: ${Number.isNaN(failed) ? 'the runner printed no summary' : `${failed} of ${total} tests failed or did not run (a suite whose before() hook throws runs none of its tests)`}.`);
    console.log(`${Number.isNaN(passed) ? 0 : passed} passed, ${Number.isNaN(failed) ? 1 : Math.max(failed, 1)} failed`);
    process.exit(1);
  }
  console.log(`${passed} passed, 0 failed${skipped ? `, ${skipped} skipped` : ''}`);
});
