/**
 * The one command-line parser every `funit` command uses: node:util parseArgs (strict, with -h /
 * --help on every command), plus lists in the `--content a.png b.png` style and a bound on bare
 * arguments. Every mistake is a UsageError, so the CLI prints it with a pointer to the command's
 * help and exits 2, whichever command it came from.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../errors";

export type Options = NonNullable<ParseArgsConfig["options"]>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * node:util parseArgs, plus lists in the `--content a.png b.png` style: a bare argument that
 * follows a list option (declared `multiple`) is one more value of it. Other bare arguments are
 * positionals, refused unless `maxPositionals` allows them.
 */
export function parseCommand(
  command: string,
  args: string[],
  options: Options,
  maxPositionals = 0,
): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (e) {
    throw new UsageError(
      `${command}: ${(e as Error).message.replace(/\. To specify a positional argument.*$/s, "")}`,
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
  if (!values.help && positionals.length > maxPositionals) {
    throw new UsageError(`${command}: unexpected argument '${positionals[maxPositionals]}'`);
  }
  return { values, positionals };
}

export function requireString(command: string, values: Parsed["values"], name: string): string {
  const v = values[name];
  if (typeof v !== "string" || v === "") throw new UsageError(`${command}: --${name} is required`);
  return v;
}

export function positiveInteger(command: string, name: string, text: string): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`${command}: --${name} must be a positive integer, got '${text}'`);
  return n;
}

/** A string option restricted to `choices`, with its default when absent. */
export function oneOf<T extends string>(
  command: string,
  values: Parsed["values"],
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const v = values[name];
  if (v === undefined) return fallback;
  if (typeof v !== "string" || !(choices as readonly string[]).includes(v))
    throw new UsageError(`${command}: --${name} must be ${choices.join(" or ")}, not '${v}'`);
  return v as T;
}
