import {SystemPreflight, type PreflightProbes} from '../lib/doctor/preflight.js'
import type {ResolvedConfig} from '../lib/config/load.js'
import {connect} from '../lib/lifecycle/connect.js'
import type {Connection} from '../lib/lifecycle/ports.js'
import {ExecaProcessRunner} from '../lib/process/runner.js'

/**
 * How commands get the adapters that touch the outside world. Production wires the real ones; tests
 * swap in doubles with `useDependencies` (oclif's runCommand loads commands where vi.mock cannot reach).
 */
export interface CliDependencies {
  preflight(): PreflightProbes
  /** The adapters for the configured kube context; `stopChildren` kills running helm/minikube processes. */
  connect(
    resolved: ResolvedConfig,
    options: {log?: (line: string) => void; readOnly?: boolean},
  ): {connection: Connection; stopChildren: () => void}
}

export const realDependencies: CliDependencies = {
  preflight: () => new SystemPreflight(new ExecaProcessRunner()),
  connect: (resolved, options) => {
    const runner = new ExecaProcessRunner()
    return {
      connection: connect(resolved, {runner, log: options.log, readOnly: options.readOnly}),
      stopChildren: () => runner.killAll(),
    }
  },
}

let current: CliDependencies = realDependencies

export function dependencies(): CliDependencies {
  return current
}

/** Replaces the adapters (tests only); returns a function that restores the previous ones. */
export function useDependencies(replacement: Partial<CliDependencies>): () => void {
  const previous = current
  current = {...current, ...replacement}
  return () => {
    current = previous
  }
}
