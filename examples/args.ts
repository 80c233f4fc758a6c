/** Minimal --flag value parsing for the examples, with defaults and a usage line on --help. */
export function parseArgs<T extends Record<string, string | number>>(defaults: T, usage: string): T {
  const out: Record<string, string | number> = { ...defaults };
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    console.log(`${usage}\n\nOptions (defaults):\n${Object.entries(defaults).map(([k, v]) => `  --${k} ${v === '' ? '<unset>' : v}`).join('\n')}`);
    process.exit(0);
  }
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in defaults) || argv[i + 1] === undefined) throw new Error(`Unknown or incomplete option ${argv[i]}; see --help.`);
    out[key] = typeof defaults[key] === 'number' ? Number(argv[++i]) : argv[++i];
  }
  return out as T;
}
