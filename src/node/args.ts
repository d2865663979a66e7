/**
 * The one command-line parser every `funit` command uses: node:util parseArgs (strict, with -h /
 * --help on every command), plus lists in the `--content a.png b.png` style and a bound on bare
 * arguments. A command is described once, by a CommandSpec whose option table is both what the
 * parser accepts and what `--help` lists (helpText prints every entry), so the two cannot drift.
 * Every mistake is a UsageError whose message does not name the command: the CLI prints every
 * message of a command as `funit <command>: …`, with a pointer to its help, and exits 2.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../errors";

/** One option: node:util's configuration plus what `--help` says about it. */
export type OptionSpec = NonNullable<ParseArgsConfig["options"]>[string] & {
  /** The value's placeholder in the help ("W", "A.png …"); none for a flag. */
  value?: string;
  /** What it does; lines after the first are indented under it. */
  help: string;
};

export interface CommandSpec {
  name: string;
  /** The synopsis after `funit ` (the part `funit help` lists); continuation lines unindented. */
  usage: string;
  /** What the command does. */
  about: string;
  /** Every option the command accepts, -h/--help aside (added to all). */
  options: Record<string, OptionSpec>;
  /** Text after the options list. */
  notes?: string;
  /** Bare arguments allowed (default 0). */
  maxPositionals?: number;
}

/** The option every command has. */
export const HELP_OPTION: OptionSpec = { type: "boolean", short: "h", help: "show this help" };

/** Every option a command's parser accepts, -h/--help included: exactly what helpText lists. */
export function allOptions(spec: CommandSpec): Record<string, OptionSpec> {
  return { ...spec.options, help: HELP_OPTION };
}

/** The command's synopsis, its continuation lines indented under `usage: funit ` plus `indent`. */
export function synopsis(spec: CommandSpec, indent: number): string {
  return spec.usage.replace(/\n/g, `\n${" ".repeat("usage: funit ".length + indent)}`);
}

/** `--help` for a command: its usage, what it does, then one entry per option of its table. */
export function helpText(spec: CommandSpec): string {
  const entries = Object.entries(allOptions(spec)).map(([name, o]) => {
    const short = o.short ? `-${o.short}, ` : "";
    return [`${short}--${name}${o.value ? ` ${o.value}` : ""}`, o.help] as const;
  });
  const width = Math.max(...entries.map(([head]) => head.length)) + 2;
  const list = entries.map(
    ([head, help]) =>
      `  ${head.padEnd(width)}${help.split("\n").join(`\n${" ".repeat(width + 2)}`)}`,
  );
  return [`usage: funit ${synopsis(spec, 4)}`, "", spec.about, "", "options:", ...list]
    .concat(spec.notes ? ["", spec.notes] : [])
    .join("\n");
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * node:util parseArgs on the command's option table, plus lists in the `--content a.png b.png`
 * style: a bare argument that follows a list option (declared `multiple`) is one more value of it.
 * Other bare arguments are positionals, refused beyond `spec.maxPositionals`.
 */
export function parseCommand(spec: CommandSpec, args: string[]): Parsed {
  const options = Object.fromEntries(
    Object.entries(allOptions(spec)).map(([name, { type, multiple, short }]) => [
      name,
      { type, ...(multiple ? { multiple } : {}), ...(short ? { short } : {}) },
    ]),
  ) as NonNullable<ParseArgsConfig["options"]>;
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    throw new UsageError(
      (e as Error).message.replace(/\. To specify a positional argument.*$/s, ""),
    );
  }
  const values = { ...parsed.values } as Parsed["values"];
  const positionals: string[] = [];
  let list: string | undefined;
  for (const token of parsed.tokens) {
    if (token.kind === "option") list = options[token.name]?.multiple ? token.name : undefined;
    else if (token.kind === "positional") {
      if (list) (values[list] as string[]).push(token.value);
      else positionals.push(token.value);
    } else list = undefined; // "--" ends any list
  }
  const maxPositionals = spec.maxPositionals ?? 0;
  if (!values.help && positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument '${positionals[maxPositionals]}'`);
  }
  return { values, positionals };
}

export function requireString(values: Parsed["values"], name: string): string {
  const v = values[name];
  if (typeof v !== "string" || v === "") throw new UsageError(`--${name} is required`);
  return v;
}

export function positiveInteger(name: string, text: string): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`--${name} must be a positive integer, got '${text}'`);
  return n;
}

/** A string option restricted to `choices`, with its default when absent. */
export function oneOf<T extends string>(
  values: Parsed["values"],
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const v = values[name];
  if (v === undefined) return fallback;
  if (typeof v !== "string" || !(choices as readonly string[]).includes(v))
    throw new UsageError(`--${name} must be ${choices.join(" or ")}, not '${v}'`);
  return v as T;
}
