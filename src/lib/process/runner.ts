import {constants} from 'node:os'

import type {ResultPromise} from 'execa'

import {PrerequisiteError, TodoDeployError, ExitCode} from '../errors.js'

export interface RunOptions {
  /** Bounded time for the call; when it runs out the error names the command that hung. */
  timeoutMs?: number
  env?: Record<string, string | undefined>
  cwd?: string
  input?: string
  /** Called with each line of stdout and stderr as it arrives (progress). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void
  signal?: AbortSignal
}

export interface RunResult {
  exitCode: number
  stdout: string
  stderr: string
}

/** How every external program (helm, minikube, kind, k3d) is run: one seam, doubled in tests. */
export interface ProcessRunner {
  /** Runs `file args`; resolves with its result whatever the exit code; rejects only when it cannot run or hangs. */
  run(file: string, args: readonly string[], options?: RunOptions): Promise<RunResult>
}

const INSTALL_HINTS: Record<string, string> = {
  helm: 'install helm 3.8+ or 4.x: https://helm.sh/docs/intro/install/',
  minikube: 'install minikube: https://minikube.sigs.k8s.io/docs/start/',
  kind: 'install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation',
  k3d: 'install k3d: https://k3d.io/#installation',
  kubectl: 'install kubectl: https://kubernetes.io/docs/tasks/tools/',
}

export function installHint(file: string): string {
  return INSTALL_HINTS[file] ?? `install ${file} and make sure it is on PATH`
}

/** The real runner: execa, with every child killed when the process is interrupted. */
export class ExecaProcessRunner implements ProcessRunner {
  private readonly children = new Set<ResultPromise>()

  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    // Loaded on the first subprocess: `status` with its cluster facts cached starts none.
    const {execa} = await import('execa')
    const child = execa(file, args, {
      reject: false,
      all: false,
      stdin: options.input === undefined ? 'ignore' : 'pipe',
      input: options.input,
      env: options.env,
      extendEnv: true,
      cwd: options.cwd,
      timeout: options.timeoutMs,
      cancelSignal: options.signal,
      forceKillAfterDelay: 3000,
      lines: false,
      stripFinalNewline: false,
    })
    this.children.add(child)
    if (options.onLine) {
      const onLine = options.onLine
      forwardLines(child.stdout, (line) => onLine(line, 'stdout'))
      forwardLines(child.stderr, (line) => onLine(line, 'stderr'))
    }
    try {
      const result = await child
      const command = [file, ...args].join(' ')
      if (result.timedOut) {
        throw new TodoDeployError(
          ExitCode.Prerequisite,
          `\`${shortCommand(file, args)}\` did not answer within ${Math.round((options.timeoutMs ?? 0) / 1000)}s`,
          {
            fix: `check that ${file} works on its own: run \`${command}\` in a terminal`,
          },
        )
      }
      if (result.isCanceled) {
        return {exitCode: 130, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '')}
      }
      const spawnError = (result as {code?: string}).code
      if (spawnError === 'ENOENT') {
        throw new PrerequisiteError(`${file} was not found on PATH`, {fix: installHint(file)})
      }
      return {
        exitCode: exitCodeOf(result),
        stdout: String(result.stdout ?? ''),
        stderr: String(result.stderr ?? ''),
      }
    } finally {
      this.children.delete(child)
    }
  }

  /** Stops every child still running (SIGTERM, then SIGKILL after 3 s). */
  killAll(): void {
    for (const child of this.children) child.kill('SIGTERM')
  }
}

/** A child killed by a signal reports 128 + the signal number, as a shell does (SIGKILL → 137, SIGTERM → 143). */
function exitCodeOf(result: {exitCode?: number; signal?: string}): number {
  if (result.exitCode !== undefined) return result.exitCode
  const signal = result.signal
    ? constants.signals[result.signal as keyof typeof constants.signals]
    : undefined
  return signal === undefined ? 1 : 128 + signal
}

function shortCommand(file: string, args: readonly string[]): string {
  return [file, ...args.slice(0, 3)].join(' ')
}

function forwardLines(
  stream: NodeJS.ReadableStream | null | undefined,
  onLine: (line: string) => void,
): void {
  if (!stream) return
  let buffer = ''
  stream.on('data', (chunk: Buffer | string) => {
    buffer += chunk.toString()
    let index = buffer.indexOf('\n')
    while (index >= 0) {
      const line = buffer.slice(0, index).replace(/\r$/, '')
      if (line.length > 0) onLine(line)
      buffer = buffer.slice(index + 1)
      index = buffer.indexOf('\n')
    }
  })
  stream.on('end', () => {
    if (buffer.length > 0) onLine(buffer)
    buffer = ''
  })
}
