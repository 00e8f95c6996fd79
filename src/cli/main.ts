/**
 * `linscope <command> [options]`: dispatches to one module per subcommand, imported only when used
 * so that start-up stays fast.
 */
import { didYouMean } from '../util/closest-match.ts';

export interface Command {
  summary: string;
  /** Imports the command's module and returns its entry point. */
  load: () => Promise<(argv: string[]) => Promise<number>>;
}

export const commands: Record<string, Command> = {
  demo: { summary: 'A short end-to-end tour on the bundled stories260K model', load: async () => (await import('./commands/demo.ts')).run },
  info: { summary: 'Describe a model: architecture, sizes, parameters, weight names', load: async () => (await import('./commands/info.ts')).run },
  download: { summary: 'Download a Hugging Face model into the standard cache', load: async () => (await import('./commands/download.ts')).run },
  generate: { summary: 'Generate text (greedy or sampled) with a KV cache', load: async () => (await import('./commands/generate.ts')).run },
  'check-reference': {
    summary: 'Compare our logits and hidden states with a reference .safetensors file',
    load: async () => (await import('./check-reference.ts')).runCheckReference,
  },
  linearity: { summary: 'Linearity profile across depth, with anisotropy, intrinsic dimension and logit lens', load: async () => (await import('./commands/linearity.ts')).run },
  laser: { summary: 'LASER: rank-reduce weight matrices (search | apply | eval | higher-order)', load: async () => (await import('./commands/laser.ts')).run },
  prune: { summary: 'Depth pruning: replace the most linear blocks by linear maps, distil, export', load: async () => (await import('./commands/prune.ts')).run },
  pretrain: { summary: 'Pretrain a small decoder of any supported architecture, optionally with the cosine regulariser', load: async () => (await import('./commands/pretrain.ts')).run },
  finetune: { summary: 'Fine-tune a model and report how its linearity changes', load: async () => (await import('./commands/finetune.ts')).run },
  experiment: { summary: 'Run a whole experiment (e.g. cosine-reg: baseline vs regularised pretraining)', load: async () => (await import('./commands/experiment.ts')).run },
  eval: { summary: 'Benchmarks with lm-evaluation-harness task definitions (ARC, PIQA, SuperGLUE, …)', load: async () => (await import('./commands/eval.ts')).run },
  bench: { summary: 'Run the benchmarks and print their tables', load: async () => (await import('./commands/bench.ts')).run },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return ['Usage: linscope <command> [options]', '', 'Commands:', ...lines, '', 'Run `linscope <command> --help` for the options of one command.'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 1;
  }
  if (name === '--version') {
    const { readFileSync } = await import('node:fs');
    console.log(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`linscope: unknown command "${name}"${didYouMean(name, Object.keys(commands), '"')}\n\n${usage()}`);
    return 2;
  }
  try {
    const run = await command.load();
    return await run(rest);
  } catch (e) {
    const err = e as Error;
    if (err.name === 'InterruptedError') {
      // stopped on Ctrl-C after saving: the message says what was saved and how to continue
      console.error(`linscope ${name}: ${err.message}`);
      return 130;
    }
    if (process.env.LINSCOPE_DEBUG) console.error(err.stack);
    else console.error(`linscope ${name}: ${err.message}`);
    return 1;
  }
}
