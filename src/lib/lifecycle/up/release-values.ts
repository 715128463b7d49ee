import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {parseAllDocuments} from 'yaml'

import {BadInputError} from '../../errors.js'
import type {ReleaseValues} from '../../helm/helm-client.js'
import {checkRenderedObjects, type K8sObject} from '../../rules/index.js'
import {DEPLOY_DIGEST_KEY, IMAGE_TAG_KEY} from '../chart-values.js'
import {deployDigest} from '../deploy-digest.js'
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
 * anything is deployed, a warning joins the result's warnings. Returns the manifests. With a memory of
 * checked renders (`dev`), a render that differs from the last checked one only in its image tags is
 * not asked of Helm again: the rules run on the last manifests with the new image references.
 */
export async function renderChecked(run: UpRun, values: ReleaseValues): Promise<string> {
  const memory = run.options.checkedRenders
  const key = memory === undefined ? undefined : renderKey(run)
  const refs = planOf(run).services.map((service) => service.ref)
  const manifests =
    (key === undefined ? undefined : memory?.reuse(key, refs)) ?? (await run.connection.helm.template(values))
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
  if (key !== undefined) memory?.remember(key, refs, manifests)
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

/**
 * What a render and its check depend on besides the image tags: the chart's files, the values files,
 * the configuration's values, the other values set, where it goes and what the rules are told.
 */
function renderKey(run: UpRun): string {
  const plan = planOf(run)
  const observed = run.observed
  if (observed === undefined) throw new Error('up: the render ran before the observation')
  const tagKeys = new Set(plan.services.map((service) => IMAGE_TAG_KEY(service.service)))
  const setString = Object.fromEntries(
    Object.entries(plan.values.setString).filter(
      ([name]) => !tagKeys.has(name) && name !== DEPLOY_DIGEST_KEY,
    ),
  )
  return JSON.stringify({
    inputs: deployDigest({
      sources: observed.sources,
      configValues: configValuesText(run.resolved),
      setString,
      set: plan.values.set,
    }),
    chart: run.resolved.chartDir,
    release: plan.release,
    namespace: plan.namespace,
    localImages: run.resolved.config.registry.url === null,
    clusterKind: run.connection.clusterKind,
    secretKeyNames: run.secrets.map((secret) => secret.name),
  })
}

function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null && typeof object === 'object')
}
