/**
 * Command-line flags for the examples, the bench and the scripts, on Node's util.parseArgs. Every flag is declared
 * once with its type, default, description and (for strings) allowed values; `--help` prints them all; `--flag value`
 * and `--flag=value` both work; an unknown flag or a bad value prints the problem and the usage to stderr and exits
 * with status 2, without a stack trace. Every command also takes --debug (Dawn's own notes, error scopes).
 */
import { parseArgs } from 'node:util';

export type Flag =
  | { type: 'string'; default: string; description: string; choices?: readonly string[] }
  | { type: 'number'; default: number; description: string; integer?: boolean; min?: number }
  // Comma-separated whole numbers, each at least `min` (a list of sizes, say).
  | { type: 'integers'; default: readonly number[]; description: string; min?: number }
  | { type: 'boolean'; default: boolean; description: string };

type Values<S extends Record<string, Flag>> = { [K in keyof S]: S[K]['default'] };

const DEBUG: Flag = { type: 'boolean', default: false, description: "show Dawn's native notes on stderr and check every dispatch in an error scope" };

function usageText(command: string, summary: string, spec: Record<string, Flag>): string {
  const rows = Object.entries(spec).map(([name, f]) => {
    const left = f.type === 'boolean' ? `--${name}` : `--${name} <${f.type === 'number' ? 'n' : f.type === 'integers' ? 'n,n,...' : 'value'}>`;
    const def = f.type === 'string' && f.default === '' ? 'unset' : f.type === 'integers' ? f.default.join(',') : JSON.stringify(f.default);
    const allowed = f.type === 'string' && f.choices ? `; one of ${f.choices.join(', ')}` : '';
    return `  ${left.padEnd(28)} ${f.description} (default: ${def}${allowed})`;
  });
  return `Usage: ${command} [options]\n\n${summary}\n\nOptions:\n${rows.join('\n')}\n  ${'--help'.padEnd(28)} print this and exit`;
}

/** Parses process.argv (or `argv`) against `spec`; exits 0 after --help and 2 on a bad command line. */
export function parseFlags<S extends Record<string, Flag>>(command: string, summary: string, spec: S, argv = process.argv.slice(2)): Values<S> & { debug: boolean } {
  const full: Record<string, Flag> = { ...spec, debug: DEBUG };
  const usage = usageText(command, summary, full);
  const fail = (problem: string): never => {
    process.stderr.write(`${command}: ${problem}\n\n${usage}\n`);
    process.exit(2);
  };
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(Object.entries(full).map(([name, f]) => [name, { type: f.type === 'boolean' ? 'boolean' as const : 'string' as const }]));
    ({ values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    return fail((err as Error).message.replace(/\. To specify a positional argument.*$/s, '.'));
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const out: Record<string, string | number | boolean | readonly number[]> = {};
  for (const [name, f] of Object.entries(full)) {
    const raw = values[name];
    if (raw === undefined) {
      out[name] = f.default;
    } else if (f.type === 'number') {
      const n = Number(raw);
      if (String(raw).trim() === '' || !Number.isFinite(n)) fail(`--${name} takes a number, got '${raw}'.`);
      if (f.integer && !Number.isInteger(n)) fail(`--${name} takes a whole number, got '${raw}'.`);
      if (f.min !== undefined && n < f.min) fail(`--${name} must be at least ${f.min}, got ${n}.`);
      out[name] = n;
    } else if (f.type === 'integers') {
      const list = String(raw).split(',').map((v) => (v.trim() === '' ? NaN : Number(v)));
      if (list.some((n) => !Number.isInteger(n))) fail(`--${name} takes whole numbers separated by commas, got '${raw}'.`);
      const low = list.find((n) => f.min !== undefined && n < f.min);
      if (low !== undefined) fail(`--${name}: each number must be at least ${f.min}, got ${low}.`);
      out[name] = list;
    } else if (f.type === 'string') {
      if (f.choices && !f.choices.includes(raw as string)) fail(`--${name} takes one of ${f.choices.join(', ')}, got '${raw}'.`);
      out[name] = raw as string;
    } else {
      out[name] = raw as boolean;
    }
  }
  return out as Values<S> & { debug: boolean };
}

/**
 * Under the tsx CLI (`npx tsx script.ts`), runs the command again through scripts/run.mjs and exits with its status;
 * anywhere else it returns at once. tsx's CLI relays a Ctrl-C to its child and SIGKILLs the child unless a handler
 * that tsx injects acknowledges within 30 ms. Dawn's OpenGL backend runs submitted work inside queue.submit, which
 * holds the JavaScript thread for a whole training step (670-870 ms for the seed-1 head on llvmpipe), so nothing can
 * acknowledge in time and tsx killed the run. run.mjs's `node --import tsx` child has tsx's loader without its relay,
 * so the Ctrl-C that the terminal sends it is the only one, and fit() stops after the step.
 */
export async function leaveTsxSignalRelay(scriptUrl: string): Promise<void> {
  if (!process.execArgv.some((a) => /tsx[\\/]dist[\\/]preflight\.cjs$/.test(a))) return;
  const { spawn } = await import('node:child_process');
  const { constants } = await import('node:os');
  const { fileURLToPath } = await import('node:url');
  const launcher = fileURLToPath(new URL('./run.mjs', import.meta.url));
  const child = spawn(process.execPath, [launcher, fileURLToPath(scriptUrl), ...process.argv.slice(2)], { stdio: 'inherit' });
  // From a terminal the command gets the Ctrl-C itself; a signal sent to this process alone is passed on. A listener
  // also keeps tsx's injected handler from exiting this process.
  process.on('SIGINT', () => {
    if (!process.stdin.isTTY) child.kill('SIGINT');
  });
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  const code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 + constants.signals[signal] : 1))));
  process.exit(code);
}

/** A bad command line or input found after parsing: the message on stderr, no stack trace, exit status 2. */
export function fail(command: string, message: string): never {
  process.stderr.write(`${command}: ${message}\n`);
  process.exit(2);
}
