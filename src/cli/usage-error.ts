/**
 * Command-line mistakes (a flag that does not exist, a flag without its value, a missing or extra
 * argument) as docker reports them: what is wrong, the command's usage line, where its help is; exit
 * 125 for a flag, 1 for the arguments or an unknown subcommand (docker's cobra codes).
 */
import { Command } from 'commander';

/** Commander's codes for a wrong flag; every other usage error is about the arguments. */
const FLAG_CODES = new Set(['commander.unknownOption', 'commander.optionMissingArgument', 'commander.invalidArgument', 'commander.missingMandatoryOptionValue', 'commander.conflictingOption']);

export class UsageError extends Error {
  readonly exitCode: number;

  constructor(
    readonly command: Command,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'UsageError';
    this.exitCode = FLAG_CODES.has(code) ? 125 : 1;
  }

  /** `kiln image ls` for the command the mistake was made in. */
  get path(): string {
    return commandPath(this.command);
  }

  /** What kiln prints: the mistake, the usage line, where the help is. */
  lines(): string {
    const help = this.command.createHelp();
    return `kiln: ${this.message}\nUsage: ${help.commandUsage(this.command)}\nRun '${this.path} --help' for more information\n`;
  }
}

/** `kiln image ls`: a command's name after its parents'. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Commander's text without its `error: ` prefix, on one line; an unknown subcommand named as docker names it. */
function reword(cmd: Command, code: string, message: string): string {
  const text = message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  const unknown = /^unknown command '(.*)'/.exec(text);
  if (code === 'commander.unknownCommand' && unknown) return `unknown command: ${commandPath(cmd)} ${unknown[1]}`;
  return text;
}

/**
 * kiln's commands: a usage mistake is thrown as a UsageError (nothing printed here: the program's one catch
 * prints it); the subcommands made from one are of this class too.
 */
export class KilnCommand extends Command {
  override createCommand(name?: string): Command {
    return new KilnCommand(name);
  }

  override error(message: string, errorOptions?: { code?: string; exitCode?: number }): never {
    const code = errorOptions?.code ?? 'commander.error';
    throw new UsageError(this, code, reword(this, code, message));
  }
}
