import {Command, Flags, Interfaces} from '@oclif/core'

import {inputExcerpt} from '../lib/config/input-excerpt.js'
import {loadConfig, type ResolvedConfig} from '../lib/config/load.js'
import {BadInputError} from '../lib/errors.js'
import type {Renderer} from '../lib/lifecycle/phase-runner.js'
import type {Connection} from '../lib/lifecycle/ports.js'
import {dependencies} from './dependencies.js'
import {renderErrorView, toErrorView} from './error-view.js'
import {abortOnSignals} from './interrupts.js'
import {userAtHost} from './lifecycle-flags.js'

/** What an operation command hands its service: the connection and how to run (Salesforce: command → service). */
export interface OperationSession {
  connection: Connection
  /** Aborts on Ctrl-C / SIGTERM (the child processes are stopped too). */
  signal: AbortSignal
  renderer: Renderer
  /** Who runs this, for the lock: `user@host pid N`. */
  holder: string
}

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/** One line of a command's EXAMPLES: `args` follows the binary's name, as the user would type it. */
export function commandExample(description: string, args: string): Command.Example {
  return {description, command: `<%= config.bin %> ${args}`}
}

/**
 * What every command shares: the global flags, the configuration, JSON mode and error rendering
 * (message, where, fix; the stack only with --verbose) with the exit codes of the one table.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    config: Flags.string({
      char: 'c',
      summary:
        'Path to the config file. Default: ./todo-deploy.yaml when it exists, else the built-in defaults.',
      helpGroup: 'GLOBAL',
      env: 'TODO_DEPLOY_CONFIG',
    }),
    namespace: Flags.string({
      char: 'n',
      summary: 'Kubernetes namespace of the release (overrides `namespace` in the config).',
      helpGroup: 'GLOBAL',
    }),
    release: Flags.string({
      summary: 'Helm release name (overrides `release` in the config).',
      helpGroup: 'GLOBAL',
    }),
    context: Flags.string({
      summary: 'Kube context to use (overrides `cluster.context`; default: the current context).',
      helpGroup: 'GLOBAL',
    }),
    verbose: Flags.boolean({
      char: 'v',
      summary: 'Show every step as plain lines, debug details and stack traces.',
      helpGroup: 'GLOBAL',
      default: false,
    }),
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  /** The JSON result was printed before the command ended (a held operation): oclif must not print it again. */
  #jsonShown = false

  override async init(): Promise<void> {
    await super.init()
    this.refuseSwitchWithValue()
    const {args, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
  }

  /**
   * `--build=maybe`: oclif reads a switch with `=value` as the switch plus a stray argument, which is either
   * "Unexpected argument: maybe" or, on a command with an argument (`rollback --list=1`), that argument. Refuse it by name.
   */
  private refuseSwitchWithValue(): void {
    const definitions = {...this.ctor.baseFlags, ...this.ctor.flags} as Record<
      string,
      {type?: string; allowNo?: boolean}
    >
    const optionsEnd = this.argv.indexOf('--')
    for (const arg of optionsEnd === -1 ? this.argv : this.argv.slice(0, optionsEnd)) {
      const match = /^--([\w-]+)=(.*)$/s.exec(arg)
      if (!match) continue
      const [, written = '', value = ''] = match
      // `--no-logs=1`: the negation of a switch that allows it.
      const negated = written.startsWith('no-') && definitions[written.slice(3)]?.allowNo === true
      const name = negated ? written.slice(3) : written
      const definition = definitions[name]
      // --json is added by oclif (enableJsonFlag), not declared in the flag tables.
      if (definition?.type !== 'boolean' && !(name === 'json' && this.ctor.enableJsonFlag)) continue
      throw new BadInputError(`--${written} is a switch and takes no value (got "${inputExcerpt(value)}")`, {
        where: `--${written}`,
        fix: definition?.allowNo
          ? `write --${name} or --no-${name}`
          : `write --${name} on its own, or leave it out`,
      })
    }
  }

  /** The configuration: defaults, then the file, then the global flags. */
  protected loadConfig(): ResolvedConfig {
    return loadConfig({
      configPath: this.flags.config,
      overrides: {release: this.flags.release, namespace: this.flags.namespace, context: this.flags.context},
    })
  }

  /** Progress goes to stderr so that stdout stays clean for the result (and for JSON). */
  protected progress(line: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${line}\n`)
  }

  /** The phase renderer: silent for --json, plain lines with --verbose or without a terminal, else live. */
  protected get renderer(): Renderer {
    if (this.jsonEnabled()) return 'silent'
    return this.verbose || !process.stdout.isTTY ? 'simple' : 'default'
  }

  /**
   * The one path of a command that changes the cluster (Salesforce CLI `project deploy start`: command →
   * service → result formatter): connect, turn Ctrl-C into an abort that also stops child processes,
   * run the service, print what the formatter makes of its result (not with --json), then let go of
   * the signal handlers and the connection whatever happened. When `holds(result)`, the result keeps
   * something open (`up --port-forward`): it is shown at once (JSON too) and the command waits for
   * Ctrl-C / SIGTERM, which ends it with exit 0.
   */
  protected async operate<R>(
    resolved: ResolvedConfig,
    service: (session: OperationSession) => Promise<R>,
    format: (result: R) => string,
    holds: (result: R) => boolean = () => false,
  ): Promise<R> {
    return this.connected(resolved, async (connection, stopChildren) => {
      const interrupts = abortOnSignals(stopChildren)
      try {
        const result = await service({
          connection,
          signal: interrupts.signal,
          renderer: this.renderer,
          holder: userAtHost(),
        })
        if (holds(result) && this.jsonEnabled()) {
          this.logJson(this.toSuccessJson(result))
          this.#jsonShown = true
        } else {
          this.log(format(result))
        }
        if (holds(result)) await untilAborted(interrupts.signal)
        return result
      } finally {
        interrupts.dispose()
      }
    })
  }

  /**
   * A connection for the configured context (with --verbose, its log goes to stderr), closed afterwards.
   * `readOnly` commands accept a context of any cluster kind.
   */
  protected async connected<R>(
    resolved: ResolvedConfig,
    use: (connection: Connection, stopChildren: () => void) => Promise<R>,
    options: {readOnly?: boolean} = {},
  ): Promise<R> {
    const {connection, stopChildren} = dependencies().connect(resolved, {
      log: this.verbose ? (line) => this.progress(line) : undefined,
      readOnly: options.readOnly,
    })
    try {
      return await use(connection, stopChildren)
    } finally {
      connection.close()
    }
  }

  override logJson(json: unknown): void {
    if (this.#jsonShown) return
    super.logJson(json)
  }

  protected get verbose(): boolean {
    return this.argv.includes('--verbose') || this.argv.includes('-v')
  }

  override async catch(error: Error & {exitCode?: number; code?: string}): Promise<unknown> {
    // `this.exit(code)` after a result was rendered: not an error to show.
    if (error.code === 'EEXIT') throw error
    const view = toErrorView(error)
    process.exitCode = view.exitCode
    if (this.jsonEnabled()) {
      // A failed operation still reports what it did (phases, tags, diagnosis).
      const result = (error as {result?: unknown}).result
      this.logJson(result === undefined ? {error: view} : {error: view, result})
    } else {
      const color = Boolean(process.stderr.isTTY) && !process.env.NO_COLOR
      process.stderr.write(
        `${renderErrorView(view, {color, stack: this.verbose ? error.stack : undefined})}\n`,
      )
    }
    return this.exit(view.exitCode)
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), {once: true})
  })
}
