#!/usr/bin/env node
/**
 * The `dameso` command. Each area registers its sub-commands from its own file (see
 * `commands.ts`); this file only builds the program and maps typed errors to exit codes.
 */
import { Command, CommanderError, Help, type Option } from 'commander';
import { DamesoError } from '../errors.js';
import { registerFor } from './commands.js';
import { EXIT } from './exit.js';
import { explainCannotCreate } from './fs-errors.js';
import { endQuietlyOnClosedPipe } from './pipes.js';
import { versionLine } from './version.js';

/**
 * The program with the commands `argv` may run: only the named command's area when it names one
 * (a board starts `dameso limits` without loading the broker), none for `--version`, else all.
 */
export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('dameso').description(
    'dameso: an intent-based runtime for edge nodes. Every node keeps one durable series of ' +
      'events; it declares intents over MQTT and peers answer YES, NO or stay silent, each ' +
      'through rate limiters measured on this machine.',
  );
  const first = argv[2];
  const asksVersion = first === '--version' || first === '-V';
  // The commit is looked up (a git call in a checkout) only when the version is asked for.
  program.version(asksVersion ? versionLine() : 'dameso');
  if (!asksVersion) await registerFor(program, first);
  // Commander copies exitOverride to sub-commands only when they are created after it is set, so
  // set it on every command: a usage error anywhere throws a CommanderError (exit 64 below).
  const override = (cmd: Command): void => {
    cmd.exitOverride();
    // Commander's own usage errors carry the code every other error line carries.
    cmd.configureOutput({ outputError: (text, write) => write(withUsageCode(text)) });
    // Commander does not mark mandatory options in help: say "(required)".
    cmd.configureHelp({
      optionDescription(this: Help, option: Option): string {
        const base = Help.prototype.optionDescription.call(this, option);
        return option.mandatory ? `${base} (required)` : base;
      },
    });
    for (const sub of cmd.commands) override(sub);
  };
  override(program);
  return program;
}

/**
 * `error: unknown option '--x'\n(Did you mean --y?)` → one line:
 * `dameso: error: unknown option '--x' (Did you mean --y?) [DAMESO_USAGE]`.
 */
function withUsageCode(text: string): string {
  const [first = '', ...rest] = text.split('\n');
  if (!first.startsWith('error:')) return text;
  const more = rest.map((l) => l.trim()).filter((l) => l !== '');
  return `dameso: ${[first, ...more].join(' ')} [DAMESO_USAGE]\n`;
}

async function main(argv: string[]): Promise<void> {
  endQuietlyOnClosedPipe();
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help / --version exit 0; every other commander error (unknown option, bad choice,
      // missing required option, an option parser's InvalidArgumentError) is a usage error.
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    if (err instanceof DamesoError) {
      // A mkdir on a read-only disk reads "ENOENT … mkdir": say read-only / permission denied.
      const e = (await explainCannotCreate(err).catch(() => undefined)) ?? err;
      process.stderr.write(`dameso: ${e.message} [${e.code}]\n`);
      process.exitCode = EXIT.forCode(e.code);
      return;
    }
    process.stderr.write(
      `dameso: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = EXIT.internal;
  }
}

await main(process.argv);
