/**
 * One exit-code table for the whole CLI (docs/lifecycle.md); `--help` renders it and every
 * error the engine raises carries one of these codes.
 */
export const ExitCode = {
  Ok: 0,
  Unexpected: 1,
  BadInput: 2,
  Prerequisite: 3,
  BuildFailed: 4,
  DeployFailed: 5,
  Interrupted: 130,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export const EXIT_CODE_HELP: Record<string, string> = {
  '0': 'success',
  '1': 'unexpected error (a bug: run again with --verbose and report it)',
  '2': 'bad input: configuration, flags, .env, missing secrets, unknown revision',
  '3': 'a prerequisite is missing or unreachable: Docker Engine, minikube, helm, the cluster',
  '4': 'an image build failed',
  '5': 'the deploy or rollout failed (after any automatic rollback), or another operation holds the release',
  '130': 'interrupted (Ctrl-C / SIGTERM)',
}

export interface ErrorDetails {
  /** Where the problem is: `file:line:col`, a flag, an object (`pod/x container y`). */
  where?: string
  /** What the user should do next. */
  fix?: string
  /** Extra lines shown under the message (diagnosis, a list of problems). */
  details?: string[]
  cause?: unknown
}

/** An error the user is meant to read: it says what, where and what to do, and sets the exit code. */
export class TodoDeployError extends Error {
  readonly exitCode: ExitCode
  readonly where?: string
  readonly fix?: string
  readonly details: string[]

  constructor(exitCode: ExitCode, message: string, options: ErrorDetails = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'TodoDeployError'
    this.exitCode = exitCode
    this.where = options.where
    this.fix = options.fix
    this.details = options.details ?? []
  }
}

/** The TodoDeployError of one exit code: the classes below differ only in the code and the name. */
function errorWithExitCode(exitCode: ExitCode, name: string) {
  return class extends TodoDeployError {
    constructor(message: string, options: ErrorDetails = {}) {
      super(exitCode, message, options)
      this.name = name
    }
  }
}

export class BadInputError extends errorWithExitCode(ExitCode.BadInput, 'BadInputError') {}
export class PrerequisiteError extends errorWithExitCode(ExitCode.Prerequisite, 'PrerequisiteError') {}
export class BuildError extends errorWithExitCode(ExitCode.BuildFailed, 'BuildError') {}
export class DeployError extends errorWithExitCode(ExitCode.DeployFailed, 'DeployError') {}

export class InterruptedError extends errorWithExitCode(ExitCode.Interrupted, 'InterruptedError') {
  constructor(message = 'interrupted', options: ErrorDetails = {}) {
    super(message, options)
  }
}

export function isTodoDeployError(error: unknown): error is TodoDeployError {
  return error instanceof TodoDeployError
}
