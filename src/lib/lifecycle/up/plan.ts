import {stringify} from 'yaml'

import type {ServiceImagePlan} from '../../image/service-image.js'
import {nodesListing, type ClusterNodes} from '../../cluster/cluster-nodes.js'
import type {ImageLoadStrategy} from '../../cluster/image-load-strategy.js'
import type {ResolvedConfig} from '../../config/load.js'
import {SERVICE_NAMES, type ServiceName} from '../../config/schema.js'
import {BadInputError} from '../../errors.js'
import type {ReleaseInfo} from '../../helm/helm-client.js'
import {isPending, planPendingRecovery, type ReleaseInspection} from '../../helm/release-state.js'
import type {RegistryImageState} from '../../registry/image-registry.js'
import {
  chartValuesFromConfig,
  DEPLOY_DIGEST_KEY,
  deployedRepository,
  IMAGE_TAG_KEY,
  SECRET_CHECKSUM_KEY,
} from '../chart-values.js'
import {deployDigest, type DigestSources} from '../deploy-digest.js'
import {deployDigestOf, imageRepositoriesOf, imageTagsOf} from '../release-tags.js'

/** What `up` was asked to do, beyond the configuration: the flags that change the plan. */
export interface UpRequest {
  /** `--only`: build and load just these services; the others keep the tag they run with. */
  only?: ServiceName[]
  /** false with `--no-build`: use images already in the engine. */
  build: boolean
  /** `--force`: recover a release stuck in pending-* first. */
  force: boolean
  /** `--values FILE` (absolute paths), applied after the configured ones. */
  valuesFiles: string[]
  /** `--set k=v`, passed to Helm as given. */
  set: string[]
  /**
   * The Dockerfile stage to build where the Dockerfile has it: `dev` builds `dev` (a server that
   * reloads synced files), `up` the last stage. The stage is part of the content tag.
   */
  buildTarget?: string
}

/** Everything `planUp` decides from, read before any change: the cluster, helm, the engine, the files. */
export interface UpObservation {
  /** The cluster's short name, for reasons (`minikube profile "minikube"`). */
  cluster: string
  helmVersion: string
  /** `helm status`: the newest revision, with the values it was given; null when not installed. */
  release: ReleaseInfo | null
  inspection: ReleaseInspection
  imageLoad: ImageLoadStrategy
  /** The nodes and the images the kubelet lists on them (a positive check only); null when unreadable. */
  nodes: ClusterNodes | null
  /** Per enabled service: its content tag and whether the engine images are built in has it. */
  images: Partial<Record<ServiceName, ServiceImagePlan>>
  sources: DigestSources
  /** The names of the Secret's keys (never the values) and the checksum of the values. */
  secret: {keys: string[]; checksum: string}
  /** With registry.url: what the registry holds under each service's content tag. */
  registry?: {host: string; images: Partial<Record<ServiceName, RegistryImageState>>}
}

/** One decision of the plan and why it was taken. */
export interface Decision<Action extends string> {
  action: Action
  reason: string
}

/** One service in the plan; a watch loop compares two plans service by service. */
export interface ServicePlan {
  service: ServiceName
  /** The image the release will run: `repository:tag`, under registry.url when one is set. */
  ref: string
  tag: string
  /** The content tag of the current source (differs from `tag` when `--only` keeps the deployed one). */
  contentTag: string
  build: Decision<'build' | 'skip'>
  /** `load` means "make sure the cluster has it": the cluster target skips an image it already has. */
  load: Decision<'load' | 'skip'> & {
    /** The nodes whose `status.images` list the image: a hint the cluster target checks before loading. */
    listedOn?: string[]
  }
  /** With registry.url: push it, or skip because the registry has that tag with this image's digest. */
  push: Decision<'push' | 'skip'>
}

export type PendingRecoveryDecision = (Decision<'rollback'> & {revision: number}) | Decision<'uninstall'>

export type HelmDecision =
  | (Decision<'skip'> & {revision: number})
  | (Decision<'install' | 'upgrade'> & {recover?: PendingRecoveryDecision})

/** The values one deploy passes to Helm, besides the generated config values file. */
export interface PlannedValues {
  /** The user's values files (config, then `--values`), absolute. */
  files: string[]
  /** `--set-string`: the image tags, the Secret checksum and the deploy digest. */
  setString: Record<string, string>
  set: string[]
  digest: string
}

/** `up` decided, before it changes anything: what `--dry-run` prints and what the phases carry out. */
export interface UpPlan {
  release: string
  namespace: string
  /** How images reach the cluster: `load`, `docker-env` (built inside it) or `none` (shared engine). */
  imageLoad: ImageLoadStrategy
  services: ServicePlan[]
  secret: {namespace: string; name: string; keys: string[]}
  values: PlannedValues
  helm: HelmDecision
  /**
   * When Helm or the rollout fails: roll back to this revision, uninstall a failed first install (there
   * is nothing to go back to; what `helm --atomic` does), or keep the failed revision (and why).
   */
  onFailure: (Decision<'rollback'> & {revision: number}) | Decision<'uninstall'> | Decision<'keep'>
  warnings: string[]
}

/**
 * Decides the whole deploy from what was observed. Pure: no I/O, so `--dry-run` is this plan printed,
 * a watch loop can recompute it on every change, and each decision is tested from a table.
 * Throws BadInputError when no plan can work (`--no-build` without the image).
 */
export function planUp(
  resolved: ResolvedConfig,
  request: UpRequest & {rollbackOnFailure: boolean},
  observed: UpObservation,
): UpPlan {
  const {config} = resolved
  const warnings: string[] = []
  const services = SERVICE_NAMES.filter((name) => config.services[name].enabled).map((service) =>
    planService(resolved, request, observed, service, warnings),
  )
  const values = planValues(resolved, request, observed, services)
  const helm = planHelm(resolved, request, observed, values.digest)
  return {
    release: config.release,
    namespace: config.namespace,
    imageLoad: observed.imageLoad,
    services,
    secret: {namespace: config.namespace, name: config.secrets.name, keys: observed.secret.keys},
    values,
    helm,
    onFailure: planOnFailure(config.release, request, observed, helm),
    warnings,
  }
}

function planService(
  resolved: ResolvedConfig,
  request: UpRequest,
  observed: UpObservation,
  service: ServiceName,
  warnings: string[],
): ServicePlan {
  const image = observed.images[service]
  if (!image) throw new Error(`no observation of the ${service} image`)
  const repository = deployedRepository(resolved.config, service)
  const kept = imageTagsOf(observed.release?.config)[service]
  const selected = request.only === undefined || request.only.includes(service)
  if (!selected && kept) {
    const ref = `${repository}:${kept}`
    return {
      service,
      ref,
      tag: kept,
      contentTag: image.contentTag,
      build: {action: 'skip', reason: `not in --only: keeps the deployed ${ref}`},
      load: {action: 'skip', reason: 'not in --only'},
      push: {action: 'skip', reason: 'not in --only'},
    }
  }
  // Nothing of it runs yet (first install): left out, the cluster would have no image to start.
  if (!selected) warnings.push(`--only: ${service} has no deployed image yet, so it is built and loaded too`)
  const pushed = observed.registry?.images[service]
  return {
    service,
    ref: pushed?.ref ?? image.ref,
    tag: image.contentTag,
    contentTag: image.contentTag,
    build: planBuild(request, image, service),
    load: observed.registry
      ? {action: 'skip', reason: `images reach the cluster from ${observed.registry.host}`}
      : planLoad(observed, image.ref, service),
    push: planPush(observed, pushed),
  }
}

/** Push unless the registry holds the content tag with a digest this very image was pushed as. */
function planPush(observed: UpObservation, pushed: RegistryImageState | undefined): ServicePlan['push'] {
  const registry = observed.registry
  if (!registry) return {action: 'skip', reason: 'no registry.url: nothing is pushed'}
  if (!pushed) throw new Error('no registry observation of an enabled service')
  const {ref, remoteDigest} = pushed
  if (remoteDigest === null) return {action: 'push', reason: `registry ${registry.host} has no ${ref}`}
  if (pushed.pushedDigests.includes(remoteDigest))
    return {
      action: 'skip',
      reason: `${ref} is already in ${registry.host} with the same digest ${remoteDigest}`,
    }
  return {
    action: 'push',
    reason: `registry ${registry.host} holds ${remoteDigest} under ${ref}, which this image was not pushed as`,
  }
}

function planBuild(request: UpRequest, image: ServiceImagePlan, service: ServiceName): ServicePlan['build'] {
  if (image.exists) return {action: 'skip', reason: `${image.ref} already built (same content)`}
  if (!request.build) {
    throw new BadInputError(
      `--no-build: the engine has no image ${image.ref} for the current ${service} source`,
      {where: '--no-build', fix: `run \`todo-deploy up\` without --no-build to build it`},
    )
  }
  return {action: 'build', reason: `the engine has no ${image.ref}: the ${service} source changed`}
}

function planLoad(observed: UpObservation, ref: string, service: ServiceName): ServicePlan['load'] {
  switch (observed.imageLoad) {
    case 'docker-env':
      return {action: 'skip', reason: `images are built inside ${observed.cluster} (docker-env)`}
    case 'none':
      return {action: 'skip', reason: `${observed.cluster} uses the local engine's images`}
    case 'load': {
      const listing = nodesListing(observed.nodes, ref)
      const nodes = listing && `node${listing.length > 1 ? 's' : ''} ${listing.join(', ')}`
      // The kubelet refreshes a node's image list on its own period, so the list still shows an image
      // removed (`down --purge`) up to a minute ago: alone, it proves nothing. It is taken as proof only
      // when the deployed revision runs that very image, whose pods hold it; otherwise the cluster
      // target asks the cluster's own tool (`minikube image ls`, current), which costs about a second.
      const running = runningRevision(observed, ref, service)
      if (listing && running !== undefined)
        return {action: 'skip', reason: `listed on ${nodes}, and revision ${running} runs it`}
      if (listing)
        return {
          action: 'load',
          reason: `listed on ${nodes}, but no deployed revision runs it and that list lags a removal: ${observed.cluster} is asked, and sent it unless it has it`,
          listedOn: listing,
        }
      return {action: 'load', reason: `sent to ${observed.cluster} unless it already has it`}
    }
  }
}

/** The deployed revision, when it runs `ref` for this service. */
function runningRevision(observed: UpObservation, ref: string, service: ServiceName): number | undefined {
  const release = observed.release
  if (release?.status !== 'deployed') return undefined
  // Values from before the repository was recorded name none: the configured one is the same then.
  const repository = imageRepositoriesOf(release.config)[service] ?? ref.slice(0, ref.lastIndexOf(':'))
  const tag = imageTagsOf(release.config)[service]
  return `${repository}:${tag}` === ref ? release.revision : undefined
}

function planValues(
  resolved: ResolvedConfig,
  request: UpRequest,
  observed: UpObservation,
  services: ServicePlan[],
): PlannedValues {
  const setString: Record<string, string> = {[SECRET_CHECKSUM_KEY]: observed.secret.checksum}
  for (const service of services) setString[IMAGE_TAG_KEY(service.service)] = service.tag
  const digest = deployDigest({
    sources: observed.sources,
    configValues: configValuesText(resolved),
    setString,
    set: request.set,
  })
  return {
    files: [...resolved.valuesFiles, ...request.valuesFiles],
    setString: {...setString, [DEPLOY_DIGEST_KEY]: digest},
    set: request.set,
    digest,
  }
}

/** The values file generated from the configuration, as Helm reads it (and the digest covers it). */
export function configValuesText(resolved: ResolvedConfig): string {
  return stringify(chartValuesFromConfig(resolved))
}

function planHelm(
  resolved: ResolvedConfig,
  request: UpRequest,
  observed: UpObservation,
  digest: string,
): HelmDecision {
  const {release, namespace} = resolved.config
  const current = observed.release
  if (current?.status === 'deployed' && deployDigestOf(current.config) === digest) {
    return {
      action: 'skip',
      revision: current.revision,
      reason: `revision ${current.revision} already has these images, values and chart`,
    }
  }
  const recover = request.force ? planRecovery(release, observed.inspection) : undefined
  if (!current || recover?.action === 'uninstall') {
    const reason = current ? recover!.reason : `release ${release} is not installed in ${namespace}`
    return recover ? {action: 'install', reason, recover} : {action: 'install', reason}
  }
  const refused =
    isPending(observed.inspection.state) && !request.force ? ': up refuses until --force recovers it' : ''
  const reason =
    current.status === 'deployed'
      ? `revision ${current.revision} has other images, values or chart`
      : `revision ${current.revision} is ${current.status}${refused}`
  return recover ? {action: 'upgrade', reason, recover} : {action: 'upgrade', reason}
}

function planRecovery(release: string, inspection: ReleaseInspection): PendingRecoveryDecision | undefined {
  const recovery = planPendingRecovery(inspection)
  if (!recovery) return undefined
  if (recovery.action === 'rollback') {
    return {
      action: 'rollback',
      revision: recovery.revision,
      reason: `--force: release ${release} is ${inspection.state}; rolling back to revision ${recovery.revision}`,
    }
  }
  return {
    action: 'uninstall',
    reason: `--force: release ${release} never deployed (${inspection.state}); uninstalling it first`,
  }
}

function planOnFailure(
  release: string,
  request: {rollbackOnFailure: boolean},
  observed: UpObservation,
  helm: HelmDecision,
): UpPlan['onFailure'] {
  if (helm.action === 'skip') return {action: 'keep', reason: 'no new revision: nothing to roll back'}
  const previous = helm.recover?.action === 'uninstall' ? undefined : observed.inspection.lastDeployed
  if (!previous) {
    return request.rollbackOnFailure
      ? {
          action: 'uninstall',
          reason:
            'no earlier revision deployed successfully: a failed first install is uninstalled (the namespace and the Secret stay)',
        }
      : {
          action: 'keep',
          reason: `--no-rollback: the failed first install of release ${release} stays for inspection; \`todo-deploy status\` shows it, \`todo-deploy up\` installs again once the cause is fixed, \`todo-deploy down\` removes it`,
        }
  }
  if (!request.rollbackOnFailure)
    return {action: 'keep', reason: '--no-rollback: the failed revision stays in place'}
  return {
    action: 'rollback',
    revision: previous.revision,
    reason: `revision ${previous.revision} is the last that deployed successfully`,
  }
}
