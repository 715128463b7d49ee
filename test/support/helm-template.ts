import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {parseAllDocuments} from 'yaml'

import {ExecaProcessRunner, type RunResult} from '../../src/lib/process/runner.js'
import type {K8sObject} from '../../src/lib/rules/kubernetes-object.js'
import {helmBinary, type HelmMajor} from './helm-binaries.js'

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const defaultChartDir = path.join(projectRoot, 'manifests', 'todo-chatbot')

export interface RenderChartOptions {
  major: HelmMajor
  chartDir?: string
  /** Paths relative to the chart folder, or absolute. */
  valuesFiles?: string[]
  set?: Record<string, string>
  release?: string
  namespace?: string
}

const runner = new ExecaProcessRunner()

/** Runs the real `helm template` and returns the rendered objects (empty documents dropped). */
export async function renderChart(options: RenderChartOptions): Promise<K8sObject[]> {
  const chartDir = options.chartDir ?? defaultChartDir
  const args = [
    'template',
    options.release ?? 'todo',
    chartDir,
    '--namespace',
    options.namespace ?? 'todo-app-dev',
  ]
  for (const file of options.valuesFiles ?? []) args.push('--values', path.resolve(chartDir, file))
  for (const [key, value] of Object.entries(options.set ?? {})) args.push('--set', `${key}=${value}`)
  const result = await runHelm(options.major, args)
  if (result.exitCode !== 0) throw new Error(`helm template failed (${result.exitCode}): ${result.stderr}`)
  return parseManifests(result.stdout)
}

/** Runs the real `helm lint` on the chart with one values file. */
export async function lintChart(
  major: HelmMajor,
  valuesFile: string,
  chartDir = defaultChartDir,
): Promise<RunResult> {
  return runHelm(major, ['lint', chartDir, '--strict', '--values', path.resolve(chartDir, valuesFile)])
}

/** Parses multi-document YAML; a YAML error fails loudly rather than dropping an object. */
export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = []
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0)
      throw new Error(`rendered YAML does not parse: ${document.errors[0]?.message}`)
    const value: unknown = document.toJS()
    if (value !== null && typeof value === 'object') objects.push(value as K8sObject)
  }
  return objects
}

function runHelm(major: HelmMajor, args: string[]): Promise<RunResult> {
  return runner.run(helmBinary(major), args, {timeoutMs: 60_000})
}
