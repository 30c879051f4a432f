// Settings from environment variables or flags: `--duration 20` or `--duration=20` sets BENCH_DURATION (the soak
// run's flags map to SOAK_*). Flags win over the environment.
export function readConfig(prefix, defaults, argv = process.argv.slice(2)) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--') || a === '--') continue;
    let [k, v] = a.slice(2).split('=', 2);
    if (v === undefined) v = argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : 'true';
    if (k === 'help') flags.help = 'true';
    else flags[`${prefix}_${k.toUpperCase().replace(/-/g, '_')}`] = v;
  }
  const out = {};
  for (const [key, def] of Object.entries(defaults)) {
    const raw = flags[key] ?? process.env[key];
    if (raw === undefined || raw === '') out[key] = def;
    else if (typeof def === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${key}: not a number: ${raw}`);
      out[key] = n;
    } else out[key] = raw;
  }
  for (const key of Object.keys(flags)) {
    if (key !== 'help' && !(key in defaults))
      throw new Error(`unknown option ${key} (known: ${Object.keys(defaults).join(', ')})`);
  }
  out.help = flags.help === 'true';
  return out;
}

/** readConfig for a script's top level: a bad flag or variable is one line on stderr and exit 2. */
export function readConfigOrExit(prefix, defaults) {
  try {
    return readConfig(prefix, defaults);
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}
