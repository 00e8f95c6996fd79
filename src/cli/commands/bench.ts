/**
 * `linscope bench [name…]`: runs the benchmark scripts in bench/ (core: GEMM, SVD, training step;
 * forward; linearity; laser; pretrain) as child processes and lets them print their tables.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineCommand, parseOrExplain } from '../args.ts';

const BENCHES: Record<string, string> = {
  core: 'run.ts',
  forward: 'forward.ts',
  linearity: 'linearity-model.ts',
  laser: 'laser.ts',
  pretrain: 'pretrain.ts',
  prune: 'prune.ts',
};

const spec = defineCommand({
  name: 'bench',
  summary: 'Run the benchmarks and print their tables',
  description: `Benchmarks: ${Object.keys(BENCHES).join(', ')} (default: core and forward). Results are recorded in bench/RESULTS*.md.`,
  positionals: [{ name: 'names', description: 'Which benchmarks to run', variadic: true }],
  options: {
    quick: { type: 'boolean', description: 'Shorter runs (less stable numbers)' },
  },
});

export async function run(argv: string[]): Promise<number> {
  const args = parseOrExplain(spec, argv);
  if (typeof args === 'number') return args;
  const names = args.positionals.length > 0 ? args.positionals : ['core', 'forward'];
  for (const name of names) {
    const file = BENCHES[name];
    if (!file) throw new Error(`unknown benchmark "${name}" (known: ${Object.keys(BENCHES).join(', ')})`);
    const path = fileURLToPath(new URL(`../../../bench/${file}`, import.meta.url));
    if (!existsSync(path)) throw new Error(`benchmark file ${path} is missing`);
    console.log(`\n# bench ${name}\n`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', path, ...(args.options.quick ? ['--quick'] : [])], { stdio: 'inherit' });
    if (r.status !== 0) return r.status ?? 1;
  }
  return 0;
}
