// Runs one of the repository's TypeScript commands (an example, the bench) for npm run demo / text-demo / bench:
//   node scripts/run.mjs <script.ts> [flags...]
// - The command runs in one Node process with tsx's loader (node --import tsx), so a Ctrl-C reaches it directly
//   instead of through a tsx parent that escalates a second signal.
// - Dawn writes a few notes of its own to stderr from native code, which no setting of its Node bindings turns off
//   (on llvmpipe: that two dynamic-buffer limits were lowered; without a Vulkan loader: the failed probe). They need
//   no action, so they are left out of the command's stderr; every other line passes through as it comes.
//   --debug keeps them.
// Signals: the terminal sends Ctrl-C to the whole foreground group, so the command gets it from there and this
// launcher only waits; a signal sent to the launcher alone (kill, a CI runner) is passed on.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const [script, ...args] = process.argv.slice(2);
if (!script) {
  process.stderr.write('usage: node scripts/run.mjs <script.ts> [flags...]\n');
  process.exit(2);
}
const debug = args.includes('--debug');
const tsx = createRequire(import.meta.url).resolve('tsx');

/** Dawn's notes that need no action, one line each (the Vulkan probe's note is followed by a source line and a blank). */
const NOTES = [
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/,
  /^Warning: Couldn't load Vulkan: /,
  /^\s+at operator\(\) \(.*dawn\/native\/vulkan\/.*\)$/,
];

const child = spawn(process.execPath, ['--import', tsx, script, ...args], { stdio: ['inherit', 'inherit', debug ? 'inherit' : 'pipe'] });

if (!debug) {
  let pending = '';
  let dropBlank = false;
  const emit = (line) => {
    if (NOTES.some((re) => re.test(line))) {
      dropBlank = true;
      return;
    }
    if (dropBlank && line === '') return;
    dropBlank = false;
    process.stderr.write(`${line}\n`);
  };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop();
    lines.forEach(emit);
  });
  child.stderr.on('end', () => {
    if (pending) process.stderr.write(pending);
  });
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    // From a terminal the child has the signal already; sent to this process alone, it is passed on.
    if (!process.stdin.isTTY || signal !== 'SIGINT') child.kill(signal);
  });
}
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else process.exit(code ?? 1);
});
