/** An error whose message is the whole story for the user: printed as one line, exit code 2 (bad input). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function notBuiltYet(command: string): never {
  throw new CliError(`forkguard ${command}: not built yet in this version`);
}
