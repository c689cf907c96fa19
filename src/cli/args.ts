/**
 * Small repairs around node:util's parseArgs so that a bad command line gets a message
 * that names the flag and what it wants, rather than parseArgs's own advice.
 */

/** A flag or argument error: one line on stderr, exit code 2. */
export class UsageError extends Error {}

type OptionTable = Readonly<Record<string, { readonly type: 'string' | 'boolean' }>>;

/**
 * Writes `--ops -5` as `--ops=-5`. parseArgs refuses a value that starts with a dash as
 * "ambiguous"; joined, the flag's own check can say that -5 is out of range.
 */
export function joinDashValues(argv: readonly string[], options: OptionTable): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : '';
    if (Object.hasOwn(options, name) && options[name]!.type === 'string' && next !== undefined && /^-\.?\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** One line for a parseArgs error: which flag, and what is wrong with it. */
export function parseArgsMessage(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  const flag = /'(--?[\w-]+)/.exec(error.message)?.[1];
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag !== undefined) {
    if (/does not take an argument/.test(error.message)) return `${flag} takes no value`;
    if (/ambiguous/.test(error.message)) return `${flag} needs a value; write ${flag}=VALUE for one that starts with '-'`;
    return `${flag} needs a value`;
  }
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag !== undefined) return `unknown option '${flag}'`;
  // Anything else: its first sentence, since the rest is advice over several lines.
  return error.message.split(/\.\s|\n/)[0]!;
}
