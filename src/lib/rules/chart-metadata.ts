import {parse} from 'yaml'
import semver from 'semver'

import type {RuleViolation} from './catalogue.js'

/** Rule chart.fields: Chart.yaml has what `helm package` / `helm lint` and the data model need. */
export function checkChartYaml(text: string, options: {path: string}): RuleViolation[] {
  const violations: RuleViolation[] = []
  const report = (
    field: string,
    message: string,
    fix: string,
    severity: RuleViolation['severity'] = 'error',
  ) => violations.push({id: 'chart.fields', severity, object: options.path, field, message, fix})
  let chart: unknown
  try {
    chart = parse(text)
  } catch (error) {
    report('(file)', `Chart.yaml is not valid YAML: ${(error as Error).message}`, 'fix the YAML syntax')
    return violations
  }
  const fields = chart !== null && typeof chart === 'object' ? (chart as Record<string, unknown>) : {}
  if (fields.apiVersion !== 'v2')
    report(
      'apiVersion',
      `apiVersion is ${String(fields.apiVersion ?? 'missing')}, Helm 3 and 4 charts use v2`,
      'set `apiVersion: v2`',
    )
  if (typeof fields.name !== 'string' || !/^[a-z0-9-]+$/.test(fields.name))
    report(
      'name',
      'name is missing or not lowercase letters, digits and dashes',
      'set e.g. `name: todo-chatbot-chart`',
    )
  if (typeof fields.version !== 'string' || semver.valid(fields.version) === null)
    report(
      'version',
      `version ${String(fields.version ?? 'is missing')} is not SemVer`,
      'set e.g. `version: 1.0.0` (quote nothing, SemVer only)',
    )
  if (fields.appVersion === undefined)
    report('appVersion', 'appVersion is missing', 'set e.g. `appVersion: "1.0.0"`')
  else if (typeof fields.appVersion !== 'string')
    report(
      'appVersion',
      `appVersion ${String(fields.appVersion)} is not a string`,
      'quote it: `appVersion: "1.0.0"`',
    )
  if (fields.type !== undefined && fields.type !== 'application')
    report(
      'type',
      `type is ${String(fields.type)}: a library chart cannot be installed`,
      'set `type: application`',
    )
  if (typeof fields.description !== 'string' || fields.description.trim() === '')
    report('description', 'description is missing', 'add a one-line description', 'warn')
  return violations
}
