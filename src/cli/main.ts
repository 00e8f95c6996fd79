/**
 * `linscope <command> [options]`: dispatches to one module per subcommand, imported only when used
 * so that start-up stays fast.
 */
export interface Command {
  summary: string;
  load: () => Promise<{ run: (argv: string[]) => Promise<number> }>;
}

export const commands: Record<string, Command> = {
  demo: { summary: 'Run a short end-to-end demo on the bundled stories260K model', load: () => import('./commands/demo.ts') },
  'check-reference': {
    summary: 'Compare our logits and hidden states with a reference .safetensors file',
    load: () => import('./commands/check-reference.ts'),
  },
  bench: { summary: 'Run the core benchmarks (GEMM, SVD, training step, forward)', load: () => import('./commands/bench.ts') },
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
    console.error(`linscope: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const module = await command.load();
    return await module.run(rest);
  } catch (e) {
    const err = e as Error;
    if (process.env.LINSCOPE_DEBUG) console.error(err.stack);
    else console.error(`linscope ${name}: ${err.message}`);
    return 1;
  }
}
