import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {parseAllDocuments} from 'yaml'

import {BadInputError} from '../../errors.js'
import type {ReleaseValues} from '../../helm/helm-client.js'
import {checkRenderedObjects, type K8sObject} from '../../rules/index.js'
import {configValuesText, type UpPlan} from './plan.js'
import {planOf, type UpRun} from './run.js'

/**
 * Runs `use` with the chart and values of the plan, the configuration's values in a private temporary
 * file (removed afterwards) that Helm reads first.
 */
export async function withReleaseValues<T>(
  run: UpRun,
  plan: UpPlan,
  use: (values: ReleaseValues) => Promise<T>,
): Promise<T> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'todo-deploy-'))
  try {
    const configValues = path.join(workDir, 'config-values.yaml')
    await writeFile(configValues, configValuesText(run.resolved), {mode: 0o600})
    return await use({
      release: plan.release,
      chart: run.resolved.chartDir,
      namespace: plan.namespace,
      valuesFiles: [configValues, ...plan.values.files],
      setString: plan.values.setString,
      set: plan.values.set,
    })
  } finally {
    await rm(workDir, {recursive: true, force: true})
  }
}

/**
 * `helm template` of the values, checked against the data model's rules: a broken rule is exit 2 before
 * anything is deployed, a warning joins the result's warnings. Returns the manifests.
 */
export async function renderChecked(run: UpRun, values: ReleaseValues): Promise<string> {
  const manifests = await run.connection.helm.template(values)
  const violations = checkRenderedObjects(parseManifests(manifests), {
    localImages: run.resolved.config.registry.url === null,
    clusterKind: run.connection.clusterKind,
    secretKeyNames: run.secrets.map((secret) => secret.name),
  })
  const errors = violations.filter((violation) => violation.severity === 'error')
  if (errors.length > 0) {
    throw new BadInputError(
      `the rendered chart breaks ${errors.length} rule${errors.length === 1 ? '' : 's'} of the data model`,
      {
        details: errors.map((v) => `${v.object} ${v.field}: ${v.message} [${v.id}]`),
        fix: errors[0]?.fix,
      },
    )
  }
  for (const warning of violations.filter((violation) => violation.severity === 'warn')) {
    run.result.warnings.push(`${warning.object} ${warning.field}: ${warning.message} [${warning.id}]`)
  }
  return manifests
}

/**
 * Starts rendering and checking the chart of a plan that changes the release, so `helm template` runs
 * while the images build: its values (the content tags among them) are known from the plan. The deploy
 * phase awaits it (and reports its failure); a rejection nobody awaits (up stopped before deploy) is
 * not an unhandled one.
 */
export function renderAhead(run: UpRun): void {
  const plan = planOf(run)
  if (plan.helm.action === 'skip') return
  run.rendered = withReleaseValues(run, plan, (values) => renderChecked(run, values))
  run.rendered.catch(() => {})
}

function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null && typeof object === 'object')
}
