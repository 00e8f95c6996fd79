import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ArgsError, defineCommand, defineCommandGroup, flagName, formatGroupHelp, formatHelp, parseArgs, parseOrExplain,
  parseSubcommandOrExplain,
} from '../../src/cli/args.ts';
import { closestMatch, editDistance } from '../../src/util/closest-match.ts';

const linearity = defineCommand({
  name: 'linearity',
  summary: 'Linearity score of each layer transform.',
  description: 'Runs the model over a text sample, collects hidden states at every layer and fits a linear map between consecutive layers.',
  options: {
    model: { type: 'string', description: 'Model folder or hub id', required: true, short: 'm', valueName: 'path' },
    batchSize: { type: 'integer', description: 'Sequences per batch', default: 8 },
    lr: { type: 'number', description: 'Learning rate' },
    dtype: { type: 'string', description: 'Compute precision', choices: ['f32', 'f64'], default: 'f32' },
    layer: { type: 'integer', description: 'Layer to include', multiple: true },
    quiet: { type: 'boolean', description: 'No progress output', short: 'q' },
    verbose: { type: 'boolean', description: 'More output', short: 'v' },
    residual: { type: 'boolean', description: 'Keep the residual stream', default: true },
  },
  positionals: [{ name: 'out', description: 'Output folder' }],
  examples: ['linscope linearity --model ./gpt2 --batch-size 4'],
});

function parseError(argv: string[]): ArgsError {
  try {
    parseArgs(linearity, argv);
  } catch (e) {
    assert.ok(e instanceof ArgsError);
    return e;
  }
  assert.fail(`expected ${argv.join(' ')} to fail`);
}

test('flag names: camelCase keys become kebab-case flags', () => {
  assert.equal(flagName('batchSize'), 'batch-size');
  assert.equal(flagName('model'), 'model');
});

test('parses --flag value, --flag=value, numbers, defaults, booleans and positionals', () => {
  const { options, positionals, help } = parseArgs(linearity, ['--model', './gpt2', '--batch-size=4', '--lr', '-1e-3', 'out/dir', '-q']);
  assert.equal(help, false);
  assert.deepEqual(options, {
    model: './gpt2', batchSize: 4, lr: -0.001, dtype: 'f32', layer: [], quiet: true, verbose: undefined, residual: true,
  });
  assert.deepEqual(positionals, ['out/dir']);
  // The inferred types are usable without casts.
  const bs: number = options.batchSize;
  const model: string = options.model;
  const lr: number | undefined = options.lr;
  const layers: number[] = options.layer;
  const dtype: 'f32' | 'f64' = options.dtype;
  assert.ok(bs && model && lr && layers && dtype);
});

test('repeated flags collect into arrays; --no-x and --x=false turn switches off; short bundles', () => {
  const { options } = parseArgs(linearity, ['-m', 'x', '--layer', '1', '--layer=5', '--no-residual', '-qv']);
  assert.deepEqual(options.layer, [1, 5]);
  assert.equal(options.residual, false);
  assert.equal(options.quiet, true);
  assert.equal(options.verbose, true);
  assert.equal(parseArgs(linearity, ['-m', 'x', '--residual=false']).options.residual, false);
  assert.equal(parseArgs(linearity, ['-mx']).options.model, 'x');
});

test('-- ends options; a lone - and negative numbers are values', () => {
  const { options, positionals } = parseArgs(linearity, ['-m', '-', '--', '--not-an-option']);
  assert.equal(options.model, '-');
  assert.deepEqual(positionals, ['--not-an-option']);
});

test('unknown options suggest the closest flag', () => {
  const e = parseError(['--modle', 'x']);
  assert.equal(e.message, 'unknown option --modle (did you mean --model?)');
  assert.equal(e.fullMessage, 'linscope linearity: unknown option --modle (did you mean --model?)');
  assert.equal(e.exitCode, 2);
  assert.equal(parseError(['-m', 'x', '--batchsize', '2']).message, 'unknown option --batchsize (did you mean --batch-size?)');
  assert.equal(parseError(['-m', 'x', '--zzzzzzzz']).message, 'unknown option --zzzzzzzz');
  assert.equal(parseError(['-model', 'x']).message, 'unknown option -model (did you mean --model?)');
  assert.equal(parseError(['-m', 'x', '-z']).message, 'unknown option -z');
});

test('clear errors for missing, malformed and duplicated values', () => {
  assert.equal(parseError([]).message, 'missing required option --model <path>');
  assert.equal(parseError(['--model']).message, 'option --model needs a value <path>');
  assert.equal(parseError(['--model', '--quiet']).message, 'option --model needs a value <path>');
  assert.equal(parseError(['-m', 'x', '--batch-size', 'four']).message, "option --batch-size expects an integer, got 'four'");
  assert.equal(parseError(['-m', 'x', '--batch-size', '2.5']).message, "option --batch-size expects an integer, got '2.5'");
  assert.equal(parseError(['-m', 'x', '--lr', 'fast']).message, "option --lr expects a number, got 'fast'");
  assert.equal(parseError(['-m', 'x', '--dtype', 'f46']).message, "option --dtype must be one of f32, f64 (got 'f46'; did you mean 'f64'?)");
  assert.equal(parseError(['-m', 'x', '-m', 'y']).message, 'option -m given more than once');
  assert.equal(parseError(['-m', 'x', '--quiet=maybe']).message, "option --quiet is a switch: use --quiet or --no-quiet (got 'maybe')");
  assert.equal(parseError(['-m', 'x', 'a', 'b']).message, "unexpected argument 'b'");
});

test('--help skips validation and help text lists every option with defaults', () => {
  const parsed = parseArgs(linearity, ['--help']);
  assert.equal(parsed.help, true);
  assert.equal(parseArgs(linearity, ['-h', '--model', 'x']).help, true);
  const help = formatHelp(linearity);
  assert.ok(help.startsWith('Usage: linscope linearity --model <path> [options] [<out>]\n'));
  assert.match(help, /-m, --model <path> +Model folder or hub id \(required\)/);
  assert.match(help, / {4}--batch-size <n> +Sequences per batch \(default: 8\)/);
  assert.match(help, /--dtype <f32\|f64> +Compute precision \(default: f32\)/);
  assert.match(help, /--layer <n> +Layer to include \(repeatable\)/);
  assert.match(help, /-q, --quiet +No progress output\n/);
  assert.match(help, /-h, --help +Show this help/);
  assert.match(help, /Examples:\n  linscope linearity --model \.\/gpt2/);
  for (const line of help.split('\n')) assert.ok(line.length <= 80, `line too long: ${line}`);
});

test('parseOrExplain returns exit codes for help and errors', () => {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) };
  assert.equal(parseOrExplain(linearity, ['--help'], io), 0);
  assert.ok(out.join('').startsWith('Usage:'));
  assert.equal(parseOrExplain(linearity, ['--modle', 'x'], io), 2);
  assert.equal(err.join(''), "linscope linearity: unknown option --modle (did you mean --model?)\nRun 'linscope linearity --help' for usage.\n");
  const ok = parseOrExplain(linearity, ['-m', 'x'], io);
  assert.ok(typeof ok !== 'number' && ok.options.model === 'x');
});

test('spec mistakes are caught at definition time', () => {
  assert.throws(() => defineCommand({ name: 'x', summary: 's', options: { a: { type: 'string', description: 'd', short: 'h' } } }), /invalid short alias/);
  assert.throws(() => defineCommand({ name: 'x', summary: 's', options: { a: { type: 'string', description: 'd', required: true, default: 'q' } } }), /both required and defaulted/);
});

test('edit distance counts transpositions as one edit; closestMatch ignores far candidates', () => {
  assert.equal(editDistance('modle', 'model'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(closestMatch('linerity', ['linearity', 'laser', 'prune']), 'linearity');
  assert.equal(closestMatch('xyz', ['linearity', 'laser']), undefined);
  assert.equal(closestMatch('las', ['linearity', 'laser']), 'laser');
});

test('every boolean accepts --x, --no-x, --x=true|false and --x true|false; an absent one without default stays undefined', () => {
  const forms: [string[], boolean | undefined][] = [
    [[], undefined], [['--verbose'], true], [['--no-verbose'], false], [['--verbose=true'], true], [['--verbose=false'], false],
    [['--verbose', 'true'], true], [['--verbose', 'false'], false], [['--verbose', 'FALSE'], false], [['-v', 'false'], false],
  ];
  for (const [argv, want] of forms) {
    const { options, positionals } = parseArgs(linearity, ['-m', 'x', ...argv]);
    assert.equal(options.verbose, want, argv.join(' '));
    assert.deepEqual(positionals, []);
    // the type keeps undefined, so a `??` fallback is reachable
    const v: boolean | undefined = options.verbose;
    assert.equal(v ?? 'fallback', want ?? 'fallback');
  }
  // only the literal words true/false are a switch's value; anything else stays a positional
  const p = parseArgs(linearity, ['-m', 'x', '--verbose', 'out']);
  assert.equal(p.options.verbose, true);
  assert.deepEqual(p.positionals, ['out']);
  // a defaulted switch keeps its default when absent
  assert.equal(parseArgs(linearity, ['-m', 'x']).options.residual, true);
  assert.equal(parseArgs(linearity, ['-m', 'x', '--residual', 'false']).options.residual, false);
});

const group = defineCommandGroup({
  name: 'laser',
  summary: 'LASER.',
  subcommands: {
    search: defineCommand({ name: 'laser search', summary: 'Grid search', options: { out: { type: 'string', description: 'Out', required: true } } }),
    apply: defineCommand({ name: 'laser apply', summary: 'Apply', options: { factored: { type: 'boolean', description: 'Factors' } } }),
  },
});

test('subcommands: typed by name, help lists them, typos get a suggestion', () => {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) };
  const parsed = parseSubcommandOrExplain(group, ['search', '--out', 'd'], io);
  assert.ok(typeof parsed !== 'number');
  if (parsed.subcommand === 'search') {
    const o: string = parsed.options.out; // narrowed without a cast
    assert.equal(o, 'd');
  } else assert.fail('expected search');
  assert.equal(parseSubcommandOrExplain(group, ['serch'], io), 2);
  assert.ok(err.join('').startsWith("linscope laser: unknown subcommand \"serch\" (did you mean \"search\"?)\n"));
  assert.equal(parseSubcommandOrExplain(group, ['--help'], io), 0);
  assert.equal(parseSubcommandOrExplain(group, [], io), 1);
  assert.ok(out[0].startsWith('Usage: linscope laser <search|apply> [options]\n'));
  assert.match(formatGroupHelp(group), /  search +Grid search\n  apply +Apply\n/);
  assert.throws(() => defineCommandGroup({ name: 'g', summary: 's', subcommands: { a: defineCommand({ name: 'g b', summary: 's', options: {} }) } }), /spec named 'g b'/);
});
