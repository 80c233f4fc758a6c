// Interrupts as a user makes them. Ctrl-C is sent through a real pseudo-terminal (script(1) runs the command in one;
// writing \x03 to it makes the terminal send SIGINT to the foreground process group, as a keyboard does), under the
// README's own command (npm run demo) and under npx tsx. A SIGINT without a terminal, and SIGKILL during checkpoint
// writes, use plain child processes.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';

const require = createRequire(import.meta.url);
const root = `out/test/interrupt-${process.pid}`;
const it = suite('interrupts: Ctrl-C in a terminal, SIGINT, SIGKILL during checkpoints');
it.before(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  output: string;
  code: number | null;
  /** Seconds from the first signal to the exit. */
  afterSignal: number;
}

/** Runs `argv`, sends `signal()` `times` times (300 ms apart) once `when` matches the output, and waits for the exit. */
function runAndSignal(argv: string[], when: RegExp, signal: (child: ReturnType<typeof spawn>) => void, times = 1): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    let output = '';
    let sentAt = 0;
    const timeout = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit within 240 s; output so far:\n${output}`));
    }, 240_000);
    const take = (d: Buffer) => {
      output += d.toString();
      if (!sentAt && when.test(output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''))) {
        sentAt = performance.now();
        for (let i = 0; i < times; i++) setTimeout(() => signal(child), i * 300);
      }
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.on('exit', (code) => {
      clearTimeout(timeout);
      resolve({ output: output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '\n'), code, afterSignal: (performance.now() - sentAt) / 1000 });
    });
  });
}

/** The command in a pseudo-terminal; Ctrl-C is the byte \x03 typed into it. */
const inTerminal = (command: string) => {
  // Without one (a chroot or container with no devpts at /dev/pts) these tests cannot run; they fail saying so.
  const probe = spawnSync('script', ['-qfec', 'true', '/dev/null'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(`This machine cannot open a pseudo-terminal (script(1): ${(probe.stderr || probe.error?.message || '').trim()}), so Ctrl-C cannot be typed into one. Mount devpts at /dev/pts (mount -t devpts devpts /dev/pts), or run the tests outside the chroot.`);
  }
  return ['script', '-qfec', command, '/dev/null'];
};
const ctrlC = (child: ReturnType<typeof spawn>) => void child.stdin!.write('\x03');
const demoFlags = (out: string) => `--classes 2 --per-class 4 --test-per-class 2 --validation-split 0.25 --epochs 40 --batch-size 2 --out ${out}`;

function assertStoppedAfterStep(run: Run, out: string): void {
  assert.match(run.output, /Interrupted: stopping after this step \(press Ctrl-C again to quit now\)\./);
  assert.match(run.output, /test \(official Fashion-MNIST test file\): loss [\d.]+, accuracy/, 'it still evaluated what was trained');
  assert.match(run.output, /softmax-regression probe/);
  assert.ok(existsSync(join(out, 'history.png')) && existsSync(join(out, 'attention-1.png')), 'and plotted it');
  assert.not.match(run.output, /Epoch 40\/40/, 'it stopped early');
  assert.not.match(run.output, /\n\s+at /, 'no stack trace');
}

it('Ctrl-C under npm run demo in a terminal stops after the step, then evaluates and plots (3 runs)', async () => {
  for (let i = 0; i < 3; i++) {
    const out = join(root, `npm-${i}`);
    const run = await runAndSignal(inTerminal(`npm run --silent demo -- ${demoFlags(out)}`), new RegExp(`Epoch ${2 + i}/40`), ctrlC);
    assertStoppedAfterStep(run, out);
  }
});

it('Ctrl-C under npx tsx in a terminal stops after the step too', async () => {
  const out = join(root, 'tsx');
  const run = await runAndSignal(inTerminal(`npx tsx examples/image-classification.ts ${demoFlags(out)}`), /Epoch 2\/40/, ctrlC);
  assertStoppedAfterStep(run, out);
});

it('a second Ctrl-C quits at once, without evaluating', async () => {
  const out = join(root, 'twice');
  const run = await runAndSignal(inTerminal(`npm run --silent demo -- ${demoFlags(out)}`), /Epoch 2\/40/, ctrlC, 2);
  assert.match(run.output, /Interrupted: stopping after this step/);
  assert.not.match(run.output, /test \(official Fashion-MNIST test file\)/);
  assert.is(run.code, 130);
  assert.ok(run.afterSignal < 5, `exited ${run.afterSignal.toFixed(1)} s after the first Ctrl-C`);
});

it('a SIGINT without a terminal stops after the step and evaluates', async () => {
  const out = join(root, 'noterm');
  const argv = [process.execPath, '--import', require.resolve('tsx'), 'examples/image-classification.ts', ...demoFlags(out).split(' ')];
  const run = await runAndSignal(argv, /Epoch 2\/40/, (child) => void child.kill('SIGINT'));
  assertStoppedAfterStep(run, out);
  assert.is(run.code, 0);
});

it('SIGKILL during checkpoint writes always leaves a complete checkpoint (6 kills at random moments)', async () => {
  const argv = (path: string) => [process.execPath, '--import', require.resolve('tsx'), 'test/fixtures/checkpointing.ts', path];
  let seed = 11;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 6; i++) {
    const dir = join(root, `ckpt-${i}`);
    const path = join(dir, 'model.safetensors');
    // Kill somewhere within the next saves, after at least one whole one.
    const run = await runAndSignal(argv(path), new RegExp(`saved ${1 + (i % 3)}\\b`), (child) => setTimeout(() => child.kill('SIGKILL'), random() * 150));
    assert.is(run.code, null, 'killed');
    const file = wg.decodeSafetensors(readFileSync(path), path);
    assert.equal(Object.keys(file.tensors).sort(), ['dense.bias', 'dense.kernel', 'dense_1.bias', 'dense_1.kernel']);
    assert.equal(file.tensors['dense.kernel'].shape, [512, 1024]);
    assert.ok(file.tensors['dense.kernel'].data.every(Number.isFinite));
    // Only whole files under the target's name; a write cut short is a leftover .partial file, never the checkpoint.
    assert.ok(readdirSync(dir).every((f) => f === 'model.safetensors' || f.includes('.partial')), readdirSync(dir).join(', '));
  }
});

it.run();
