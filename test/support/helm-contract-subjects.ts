import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {gunzipSync, gzipSync} from 'node:zlib'

import {HelmCli} from '../../src/lib/helm/helm-cli.js'
import type {HelmClient} from '../../src/lib/helm/helm-client.js'
import {HelmReleaseStore} from '../../src/lib/helm/release-store.js'
import {StoreBackedHelm} from '../../src/lib/helm/store-backed-helm.js'
import type {KubeConnection} from '../../src/lib/kube/kube-connection.js'
import {
  ExecaProcessRunner,
  type ProcessRunner,
  type RunOptions,
  type RunResult,
} from '../../src/lib/process/runner.js'
import type {HelmContractSubject} from '../contracts/helm-client.contract.js'
import {CallLog, FakeHelm} from './fake-connection.js'
import {helmBinary, type HelmMajor} from './helm-binaries.js'
import {FakeKubeApiServer, connectionTo, type KubeObject} from './kube-api-server.js'

export const CONTRACT_CHART = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'helm',
  'contract-chart',
)
export const CONTRACT_NAMESPACE = 'helm-contract'
const NAMESPACE = CONTRACT_NAMESPACE
const CONTEXT = 'contract-context'

/** The real runner with helm's kubeconfig and home folders pointed into a sandbox. */
class SandboxRunner implements ProcessRunner {
  private readonly real = new ExecaProcessRunner()
  constructor(private readonly env: Record<string, string>) {}
  run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return this.real.run(file, args, {...options, env: {...options.env, ...this.env}})
  }
}

export async function fakeHelmSubject(): Promise<HelmContractSubject> {
  const helm = new FakeHelm(new CallLog())
  return {
    helm,
    namespace: NAMESPACE,
    chart: CONTRACT_CHART,
    leavePendingUpgrade: async (release) => {
      helm.seed(release, NAMESPACE, 'pending-upgrade', helm.revisions(release, NAMESPACE).at(-1)?.config)
    },
    close: async () => {},
  }
}

/** The real helm of one major, deploying into a FakeKubeApiServer over loopback HTTP from a sandbox. */
export interface RealHelmSandbox {
  server: FakeKubeApiServer
  /** The real helm through HelmCli. */
  helm: HelmCli
  /** The production connection to the same server. */
  kube: KubeConnection
  /** The real runner, with helm's kubeconfig and home folders (and `env`) pointed into the sandbox. */
  runner: ProcessRunner
  close(): Promise<void>
}

export async function realHelmSandbox(
  major: HelmMajor,
  env: Record<string, string> = {},
): Promise<RealHelmSandbox> {
  const server = await FakeKubeApiServer.start()
  server.seed('namespaces', {metadata: {name: NAMESPACE}})
  const sandbox = mkdtempSync(path.join(tmpdir(), `todo-deploy-helm-contract-${major}-`))
  const kubeconfig = path.join(sandbox, 'kubeconfig')
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{name: 'fake', cluster: {server: server.url}}],
      users: [{name: 'fake', user: {token: 'fake-token'}}],
      contexts: [{name: CONTEXT, context: {cluster: 'fake', user: 'fake'}}],
      'current-context': CONTEXT,
    }),
  )
  const runner = new SandboxRunner({
    KUBECONFIG: kubeconfig,
    HELM_CACHE_HOME: path.join(sandbox, 'cache'),
    HELM_CONFIG_HOME: path.join(sandbox, 'config'),
    HELM_DATA_HOME: path.join(sandbox, 'data'),
    ...env,
  })
  return {
    server,
    helm: new HelmCli(runner, {binary: helmBinary(major), kubeContext: CONTEXT}),
    kube: connectionTo(server, 10_000),
    runner,
    close: async () => {
      await server.stop()
      rmSync(sandbox, {recursive: true, force: true})
    },
  }
}

/** The real helm `major` through HelmCli, deploying into a FakeKubeApiServer over loopback HTTP. */
export async function realHelmSubject(major: HelmMajor): Promise<HelmContractSubject> {
  const sandbox = await realHelmSandbox(major)
  return subjectOf(sandbox, sandbox.helm)
}

/**
 * What production wires with helm's default storage: the real helm `major` changes the release, and
 * HelmReleaseStore reads it back from the API server.
 */
export async function storeBackedHelmSubject(major: HelmMajor): Promise<HelmContractSubject> {
  const sandbox = await realHelmSandbox(major)
  return subjectOf(sandbox, new StoreBackedHelm(new HelmReleaseStore(sandbox.kube), sandbox.helm))
}

function subjectOf(sandbox: RealHelmSandbox, helm: HelmClient): HelmContractSubject {
  return {
    helm,
    namespace: NAMESPACE,
    chart: CONTRACT_CHART,
    leavePendingUpgrade: async (release) => {
      sandbox.server.seed('secrets', pendingUpgradeOf(newestReleaseSecret(sandbox.server, release)))
    },
    close: sandbox.close,
  }
}

function newestReleaseSecret(server: FakeKubeApiServer, release: string): KubeObject {
  const secrets = server
    .list('secrets', NAMESPACE)
    .filter((secret) => secret.metadata.labels?.owner === 'helm' && secret.metadata.labels.name === release)
    .sort((a, b) => Number(a.metadata.labels?.version) - Number(b.metadata.labels?.version))
  const newest = secrets.at(-1)
  if (newest === undefined) throw new Error(`helm stored no revision of ${release}`)
  return newest
}

/**
 * The next revision of a release as helm writes it when an upgrade starts (and leaves it when killed):
 * the release record is gzipped JSON, base64-encoded, stored as the Secret's `release` key.
 */
function pendingUpgradeOf(secret: KubeObject): KubeObject {
  const data = secret.data as {release: string}
  const record = JSON.parse(
    gunzipSync(Buffer.from(Buffer.from(data.release, 'base64').toString('utf8'), 'base64')).toString('utf8'),
  ) as {version: number; info: Record<string, unknown>}
  const version = record.version + 1
  const pending = {
    ...record,
    version,
    info: {...record.info, status: 'pending-upgrade', description: 'Preparing upgrade'},
  }
  const encoded = gzipSync(JSON.stringify(pending)).toString('base64')
  const release = secret.metadata.labels?.name as string
  return {
    type: secret.type,
    metadata: {
      name: `sh.helm.release.v1.${release}.v${version}`,
      namespace: NAMESPACE,
      labels: {...secret.metadata.labels, status: 'pending-upgrade', version: String(version)},
    },
    data: {release: Buffer.from(encoded).toString('base64')},
  }
}
