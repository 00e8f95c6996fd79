/**
 * A small, typed argument parser for `linscope <command> [options]`.
 *
 * Each command declares its options once (type, help text, default, required, repeatable,
 * choices); the parser turns argv into a typed object, generates `--help`, and fails with messages
 * that say what to do ("unknown option --modle (did you mean --model?)").
 *
 *   const spec = defineCommand({
 *     name: 'linearity', summary: 'Linearity score of each layer',
 *     options: { model: { type: 'string', description: 'Model folder', required: true },
 *                batchSize: { type: 'integer', description: 'Sequences per batch', default: 8 } },
 *   });
 *   const args = parseArgs(spec, argv);   // args.options.batchSize: number
 *
 * Option keys are camelCase in code and kebab-case on the command line (batchSize ↔ --batch-size).
 * Accepted forms: `--flag value`, `--flag=value`, `-f value`, bundled short booleans `-qv`, and `--`
 * to end options. Every boolean option accepts `--x`, `--no-x`, `--x=true|false` (also yes/no, 1/0,
 * on/off) and `--x true|false` (only the literal words true/false are taken as its value). A
 * boolean without a default is `undefined` when absent, so `o.x ?? fallback` works as written.
 *
 * Shared option groups are plain objects made with {@link defineOptions} and spread into `options`;
 * {@link OptionsOf} types a group's parsed values. Commands with subcommands (`laser search|apply…`)
 * declare them with {@link defineCommandGroup} and parse with {@link parseSubcommandOrExplain}, which
 * returns a union discriminated by `subcommand` (each member with its own typed options).
 */
import { closestMatch, didYouMean } from '../util/closest-match.ts';

export type OptionType = 'string' | 'number' | 'integer' | 'boolean';

type Scalar = string | number | boolean;

/** Declaration of one option. */
export interface OptionSpec {
  type: OptionType;
  /** One-line help text. */
  description: string;
  /** Single-letter alias, used as `-x`. */
  short?: string;
  /** Value used when the option is absent (not allowed together with `required`). */
  default?: Scalar | readonly (string | number)[];
  /** Fail when the option is absent. */
  required?: boolean;
  /** May be given several times; the values are collected into an array (default []). */
  multiple?: boolean;
  /** Allowed values (strings only). */
  choices?: readonly string[];
  /** Placeholder in help, e.g. 'path' → `--model <path>` (default from the type). */
  valueName?: string;
}

/** Declaration of a positional argument. */
export interface PositionalSpec {
  name: string;
  description: string;
  required?: boolean;
  /** Takes all remaining positionals (only the last positional may be variadic). */
  variadic?: boolean;
}

/** Declaration of a subcommand. */
export interface CommandSpec {
  /** Subcommand name, e.g. 'linearity'. */
  name: string;
  /** Program name (default 'linscope'). */
  program?: string;
  /** One line shown in the command list and at the top of help. */
  summary: string;
  /** Longer explanation shown in help after the usage line. */
  description?: string;
  options: Readonly<Record<string, OptionSpec>>;
  positionals?: readonly PositionalSpec[];
  /** Example invocations shown at the end of help. */
  examples?: readonly string[];
}

type ValueOf<O extends OptionSpec> = O['type'] extends 'boolean'
  ? boolean
  : O['type'] extends 'number' | 'integer'
    ? number
    : O extends { choices: readonly (infer C)[] }
      ? C
      : string;

/** Type of a parsed option: arrays for `multiple`, definite when required or defaulted, else `| undefined`. */
export type OptionValue<O extends OptionSpec> = O extends { multiple: true }
  ? ValueOf<O>[]
  : O extends { required: true }
    ? ValueOf<O>
    : O extends { default: Scalar }
      ? ValueOf<O>
      : ValueOf<O> | undefined;

/** Parsed values of an option group (a record of {@link OptionSpec}s). */
export type OptionsOf<O extends Readonly<Record<string, OptionSpec>>> = { -readonly [K in keyof O]: OptionValue<O[K]> };

export type ParsedOptions<S extends CommandSpec> = OptionsOf<S['options']>;

export interface ParsedArgs<S extends CommandSpec> {
  options: ParsedOptions<S>;
  positionals: string[];
  /** True when -h/--help was given: options are then not validated; print {@link formatHelp}. */
  help: boolean;
}

/** Error in the command line. `message` has no program prefix; `fullMessage` does. */
export class ArgsError extends Error {
  readonly exitCode = 2;
  constructor(
    message: string,
    /** 'linscope linearity' */
    readonly command: string,
  ) {
    super(message);
    this.name = 'ArgsError';
  }
  /** "linscope linearity: unknown option --modle (did you mean --model?)" */
  get fullMessage(): string {
    return `${this.command}: ${this.message}`;
  }
}

/** Declares a command spec, keeping literal types so {@link parseArgs} can infer option types. */
export function defineCommand<const S extends CommandSpec>(spec: S): S {
  validateSpec(spec);
  return spec;
}

/** Declares a group of options shared by several commands (keeps literal types, like {@link defineCommand}). */
export function defineOptions<const O extends Readonly<Record<string, OptionSpec>>>(options: O): O {
  return options;
}

/** camelCase key → kebab-case flag name: batchSize → batch-size. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

function commandLabel(spec: CommandSpec): string {
  return `${spec.program ?? 'linscope'} ${spec.name}`;
}

function validateSpec(spec: CommandSpec): void {
  const shorts = new Set<string>();
  for (const [key, opt] of Object.entries(spec.options)) {
    if (opt.short !== undefined) {
      if (opt.short.length !== 1 || opt.short === 'h') throw new Error(`${commandLabel(spec)}: option ${key} has an invalid short alias '-${opt.short}'`);
      if (shorts.has(opt.short)) throw new Error(`${commandLabel(spec)}: short alias -${opt.short} used twice`);
      shorts.add(opt.short);
    }
    if (opt.required && opt.default !== undefined) throw new Error(`${commandLabel(spec)}: option ${key} is both required and defaulted`);
    if (opt.choices && opt.type !== 'string') throw new Error(`${commandLabel(spec)}: option ${key} has choices but is not a string option`);
  }
  const positionals = spec.positionals ?? [];
  positionals.forEach((p, i) => {
    if (p.variadic && i !== positionals.length - 1) throw new Error(`${commandLabel(spec)}: only the last positional may be variadic`);
  });
}

function valuePlaceholder(opt: OptionSpec): string {
  if (opt.valueName) return `<${opt.valueName}>`;
  if (opt.choices) return `<${opt.choices.join('|')}>`;
  return opt.type === 'string' ? '<value>' : opt.type === 'integer' ? '<n>' : '<x>';
}

function looksLikeNegativeNumber(token: string): boolean {
  return /^-(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(token);
}

/** Parses a command line for `spec`. Throws {@link ArgsError} with a clear message on bad input. */
export function parseArgs<const S extends CommandSpec>(spec: S, argv: readonly string[]): ParsedArgs<S> {
  const label = commandLabel(spec);
  const fail = (message: string): never => {
    throw new ArgsError(message, label);
  };
  const byFlag = new Map<string, string>();
  const byShort = new Map<string, string>();
  for (const [key, opt] of Object.entries(spec.options)) {
    byFlag.set(flagName(key), key);
    if (opt.short) byShort.set(opt.short, key);
  }
  const values = new Map<string, Scalar | Scalar[]>();
  const positionals: string[] = [];
  let help = false;

  const convert = (key: string, flag: string, raw: string): Scalar => {
    const opt = spec.options[key];
    switch (opt.type) {
      case 'boolean': {
        const v = raw.toLowerCase();
        if (['true', '1', 'yes', 'on'].includes(v)) return true;
        if (['false', '0', 'no', 'off'].includes(v)) return false;
        return fail(`option ${flag} is a switch: use ${flag} or --no-${flag.slice(2)} (got '${raw}')`);
      }
      case 'number': {
        const x = raw.trim() === '' ? NaN : Number(raw);
        if (!Number.isFinite(x)) fail(`option ${flag} expects a number, got '${raw}'`);
        return x;
      }
      case 'integer': {
        const x = raw.trim() === '' ? NaN : Number(raw);
        if (!Number.isSafeInteger(x)) fail(`option ${flag} expects an integer, got '${raw}'`);
        return x;
      }
      case 'string':
        if (opt.choices && !opt.choices.includes(raw)) {
          const hint = closestMatch(raw, opt.choices);
          fail(`option ${flag} must be one of ${opt.choices.join(', ')} (got '${raw}'${hint ? `; did you mean '${hint}'?` : ''})`);
        }
        return raw;
    }
  };

  const store = (key: string, flag: string, value: Scalar) => {
    const opt = spec.options[key];
    if (opt.multiple) {
      const list = (values.get(key) as Scalar[] | undefined) ?? [];
      list.push(value);
      values.set(key, list);
    } else {
      if (values.has(key)) fail(`option ${flag} given more than once`);
      values.set(key, value);
    }
  };

  const takeValue = (flag: string, key: string, i: number): string => {
    const next = argv[i];
    const isOption = next !== undefined && next.startsWith('-') && next !== '-' && !looksLikeNegativeNumber(next);
    if (next === undefined || isOption) fail(`option ${flag} needs a value ${valuePlaceholder(spec.options[key])}`);
    return next;
  };

  const unknown = (flag: string): never => {
    const candidates = [...byFlag.keys(), 'help'].map((f) => `--${f}`);
    return fail(`unknown option ${flag}${didYouMean(flag, candidates)}`);
  };

  /** `--x true` / `--x false`: the token after a switch is its value only when it is literally true or false. */
  const switchValue = (i: number): boolean => /^(true|false)$/i.test(argv[i + 1] ?? '');

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      const name = eq >= 0 ? token.slice(2, eq) : token.slice(2);
      const inline = eq >= 0 ? token.slice(eq + 1) : undefined;
      const flag = `--${name}`;
      if (name === 'help' && !byFlag.has('help')) {
        help = true;
        continue;
      }
      let key = byFlag.get(name);
      if (key === undefined && name.startsWith('no-')) {
        const positive = byFlag.get(name.slice(3));
        if (positive !== undefined && spec.options[positive].type === 'boolean') {
          if (inline !== undefined) fail(`option ${flag} takes no value`);
          store(positive, `--${name.slice(3)}`, false);
          continue;
        }
      }
      if (key === undefined) key = unknown(flag);
      const opt = spec.options[key];
      if (opt.type === 'boolean') store(key, flag, inline !== undefined ? convert(key, flag, inline) : switchValue(i) ? convert(key, flag, argv[++i]) : true);
      else if (inline !== undefined) store(key, flag, convert(key, flag, inline));
      else store(key, flag, convert(key, flag, takeValue(flag, key, ++i)));
      continue;
    }
    if (token.startsWith('-') && token !== '-' && !(looksLikeNegativeNumber(token) && !byShort.has(token[1]))) {
      const letters = token.slice(1);
      // '-model' is almost surely a mistyped '--model', not '-m odel'.
      if (letters.length > 1 && byFlag.has(letters.split('=')[0])) fail(`unknown option ${token.split('=')[0]} (did you mean --${letters.split('=')[0]}?)`);
      for (let j = 0; j < letters.length; j++) {
        const ch = letters[j];
        if (ch === 'h' && !byShort.has('h')) {
          help = true;
          continue;
        }
        const key = byShort.get(ch);
        if (key === undefined) {
          fail(`unknown option -${ch}`);
        }
        const flag = `-${ch}`;
        const opt = spec.options[key!];
        if (opt.type === 'boolean') {
          store(key!, flag, j === letters.length - 1 && switchValue(i) ? convert(key!, flag, argv[++i]) : true);
        } else {
          // A value-taking short option ends the bundle: the rest (or the next token) is its value.
          const rest = letters.slice(j + 1);
          store(key!, flag, convert(key!, flag, rest !== '' ? rest.replace(/^=/, '') : takeValue(flag, key!, ++i)));
          break;
        }
      }
      continue;
    }
    positionals.push(token);
  }

  const options: Record<string, unknown> = {};
  for (const [key, opt] of Object.entries(spec.options)) {
    const flag = `--${flagName(key)}`;
    if (values.has(key)) options[key] = values.get(key);
    else if (opt.default !== undefined) options[key] = Array.isArray(opt.default) ? [...opt.default] : opt.default;
    else if (opt.multiple) options[key] = [];
    else options[key] = undefined;
    if (!help && opt.required && (options[key] === undefined || (opt.multiple && (options[key] as unknown[]).length === 0))) {
      fail(`missing required option ${flag} ${valuePlaceholder(opt)}`);
    }
  }

  if (!help) {
    const declared = spec.positionals ?? [];
    const variadic = declared.length > 0 && declared[declared.length - 1].variadic;
    if (!variadic && positionals.length > declared.length) {
      const extra = positionals[declared.length];
      const hint = extra.startsWith('-') ? '' : declared.length === 0 ? ' (this command takes no positional arguments)' : '';
      fail(`unexpected argument '${extra}'${hint}`);
    }
    declared.forEach((p, i) => {
      if (p.required && positionals.length <= i) fail(`missing argument <${p.name}>`);
    });
  }

  return { options: options as ParsedOptions<S>, positionals, help };
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
  }
  return lines;
}

/** Aligned two-column list: left terms, right wrapped descriptions with a hanging indent. */
function definitionList(items: [string, string][], totalWidth: number): string[] {
  const termWidth = Math.min(32, Math.max(...items.map(([t]) => t.length)));
  const out: string[] = [];
  for (const [term, text] of items) {
    const indent = 2 + termWidth + 2;
    const body = wrap(text, Math.max(30, totalWidth - indent));
    if (term.length > termWidth) {
      out.push(`  ${term}`);
      body.forEach((l) => out.push(' '.repeat(indent) + l));
    } else {
      out.push(`  ${term.padEnd(termWidth)}  ${body[0]}`);
      body.slice(1).forEach((l) => out.push(' '.repeat(indent) + l));
    }
  }
  return out;
}

function formatDefault(value: OptionSpec['default']): string {
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/** The `--help` text of a command: usage, description, arguments, options, examples. */
export function formatHelp(spec: CommandSpec, width = 80): string {
  const positionals = spec.positionals ?? [];
  const usageArgs = positionals.map((p) => {
    const name = `<${p.name}>${p.variadic ? '...' : ''}`;
    return p.required ? name : `[${name}]`;
  });
  const required = Object.entries(spec.options)
    .filter(([, o]) => o.required)
    .map(([k, o]) => `--${flagName(k)} ${valuePlaceholder(o)}`);
  const lines = [`Usage: ${commandLabel(spec)} ${[...required, '[options]', ...usageArgs].join(' ')}`, ''];
  lines.push(...wrap(spec.summary, width));
  if (spec.description) lines.push('', ...wrap(spec.description, width));
  if (positionals.length > 0) {
    lines.push('', 'Arguments:');
    lines.push(...definitionList(positionals.map((p) => [`<${p.name}>`, p.description]), width));
  }
  const items: [string, string][] = Object.entries(spec.options).map(([key, o]) => {
    const flag = `--${flagName(key)}`;
    const term = `${o.short ? `-${o.short}, ` : '    '}${flag}${o.type === 'boolean' ? '' : ' ' + valuePlaceholder(o)}`;
    const notes: string[] = [];
    if (o.required) notes.push('required');
    if (o.default !== undefined && !(o.type === 'boolean' && o.default === false)) notes.push(`default: ${formatDefault(o.default)}`);
    if (o.multiple) notes.push('repeatable');
    return [term, notes.length ? `${o.description} (${notes.join('; ')})` : o.description];
  });
  items.push(['-h, --help', 'Show this help']);
  lines.push('', 'Options:', ...definitionList(items, width));
  if (spec.examples && spec.examples.length > 0) {
    lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  }
  return lines.join('\n') + '\n';
}

/**
 * Convenience for command entry points: parses argv and returns the parsed arguments, or an exit
 * code to return right away: 0 after printing help (stdout) for --help, 2 after printing the error
 * and a pointer to --help (stderr) for a bad command line.
 *
 *   const args = parseOrExplain(spec, argv);
 *   if (typeof args === 'number') return args;
 */
export function parseOrExplain<const S extends CommandSpec>(
  spec: S,
  argv: readonly string[],
  io: { out: (s: string) => void; err: (s: string) => void } = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
  },
): ParsedArgs<S> | number {
  let parsed: ParsedArgs<S>;
  try {
    parsed = parseArgs(spec, argv);
  } catch (e) {
    if (!(e instanceof ArgsError)) throw e;
    io.err(`${e.fullMessage}\nRun '${commandLabel(spec)} --help' for usage.\n`);
    return e.exitCode;
  }
  if (parsed.help) {
    io.out(formatHelp(spec));
    return 0;
  }
  return parsed;
}

/** A command made of subcommands, e.g. `linscope laser search|apply|eval|higher-order`. */
export interface CommandGroupSpec {
  /** Command name, e.g. 'laser'; each subcommand's spec is named '<name> <subcommand>'. */
  name: string;
  program?: string;
  summary: string;
  description?: string;
  subcommands: Readonly<Record<string, CommandSpec>>;
}

/** One parsed subcommand: `subcommand` tells which, and narrows `options` to its typed options. */
export type ParsedSubcommand<G extends CommandGroupSpec> = {
  [K in keyof G['subcommands'] & string]: { subcommand: K; options: ParsedOptions<G['subcommands'][K]>; positionals: string[] };
}[keyof G['subcommands'] & string];

/** Declares a command group, checking that each subcommand spec is named '<group> <key>'. */
export function defineCommandGroup<const G extends CommandGroupSpec>(group: G): G {
  for (const [key, sub] of Object.entries(group.subcommands)) {
    if (sub.name !== `${group.name} ${key}`) throw new Error(`${group.name}: subcommand '${key}' has a spec named '${sub.name}'`);
  }
  return group;
}

/** Help of a command group: usage, summary, one line per subcommand. */
export function formatGroupHelp(group: CommandGroupSpec, width = 80): string {
  const names = Object.keys(group.subcommands);
  const lines = [`Usage: ${group.program ?? 'linscope'} ${group.name} <${names.join('|')}> [options]`, ''];
  lines.push(...wrap(group.summary, width));
  if (group.description) lines.push('', ...wrap(group.description, width));
  lines.push('', 'Subcommands:', ...definitionList(names.map((n) => [n, group.subcommands[n].summary]), width));
  lines.push('', `Run '${group.program ?? 'linscope'} ${group.name} <subcommand> --help' for its options.`);
  return lines.join('\n') + '\n';
}

/**
 * Parses `<subcommand> [options]` for a group. Returns the parsed subcommand, or an exit code after
 * printing: the group's help (stdout; 0 for help/-h/--help, 1 when no subcommand is given), or an
 * unknown subcommand with a "did you mean" and the help (stderr; 2), or what {@link parseOrExplain}
 * prints for the subcommand's own options.
 */
export function parseSubcommandOrExplain<const G extends CommandGroupSpec>(
  group: G,
  argv: readonly string[],
  io: { out: (s: string) => void; err: (s: string) => void } = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
  },
): ParsedSubcommand<G> | number {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(formatGroupHelp(group));
    return sub === undefined ? 1 : 0;
  }
  const names = Object.keys(group.subcommands);
  if (!Object.hasOwn(group.subcommands, sub)) {
    const label = `${group.program ?? 'linscope'} ${group.name}`;
    io.err(`${label}: unknown subcommand "${sub}"${didYouMean(sub, names, '"')}\n\n${formatGroupHelp(group)}`);
    return 2;
  }
  const parsed = parseOrExplain(group.subcommands[sub], rest, io);
  if (typeof parsed === 'number') return parsed;
  return { subcommand: sub, options: parsed.options, positionals: parsed.positionals } as ParsedSubcommand<G>;
}
