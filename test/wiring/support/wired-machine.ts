import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import net, {type AddressInfo} from 'node:net'
import os from 'node:os'
import path from 'node:path'

import {vi} from 'vitest'

import {FakeKubeApiServer} from '../../support/kube-api-server.js'
import {helmBinary} from '../../support/helm-binaries.js'
import {projectRoot} from '../../support/run-command.js'

const MINIKUBE_FIXTURES = path.join(projectRoot, 'test', 'fixtures', 'minikube')

/** The kube context (and minikube profile) the machine's kubeconfig defines. */
export const WIRED_CONTEXT = 'minikube'

/** The secrets of the built-in configuration, with obviously fake values. */
export const WIRED_SECRETS: Record<string, string> = {
  DATABASE_URL: 'test-secret-value-1',
  JWT_SECRET: 'test-secret-value-2',
  GEMINI_API_KEY: 'test-secret-value-3',
  BETTER_AUTH_SECRET: 'test-secret-value-4',
}

export type KubeconfigTarget =
  /** The fake API server. */
  | 'fake-api'
  /** A port on 127.0.0.1 that nothing listens on. */
  | 'closed-port'
  /** KUBECONFIG names a file that does not exist. */
  | 'missing'

export interface WiredMachine {
  /** The temp folder holding bin/, the kubeconfig, the minikube log and the caches. */
  dir: string
  api: FakeKubeApiServer
  /** What KUBECONFIG points at. */
  kubeconfig: string
  /** The server URL the kubeconfig names (none when it is missing). */
  server: string
  /** The argv (after `minikube`) of every call the minikube script received, one string each. */
  minikubeCalls(): string[]
  stop(): Promise<void>
}

/** A wired machine before its environment is applied: what a child process needs in its `env`. */
export interface WiredMachineFiles extends Omit<WiredMachine, 'stop'> {
  /** PATH, KUBECONFIG, HOME, the XDG folders, NO_COLOR and the secrets, as the machine defines them. */
  env: Record<string, string>
  /** Stops the API server and removes the folder. */
  remove(): Promise<void>
}

/**
 * A machine as `realDependencies` sees it: the REAL helm 3 and a scripted `minikube` first on PATH, a
 * kubeconfig file whose `minikube` context reaches a FakeKubeApiServer over real HTTP, the secrets in
 * the environment, and HOME / XDG folders of its own (helm's and the content tagger's caches land
 * there). Every variable is stubbed with vi.stubEnv: `stop()` restores them.
 */
export async function startWiredMachine(target: KubeconfigTarget = 'fake-api'): Promise<WiredMachine> {
  const {env, remove, ...machine} = await createWiredMachineFiles(target)
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value)
  return {
    ...machine,
    stop: async () => {
      vi.unstubAllEnvs()
      await remove()
    },
  }
}

/** The machine without touching this process's environment (for whole-process runs: the benchmark). */
export async function createWiredMachineFiles(
  target: KubeconfigTarget = 'fake-api',
): Promise<WiredMachineFiles> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-wiring-'))
  const bin = path.join(dir, 'bin')
  mkdirSync(bin)
  symlinkSync(helmBinary('v3'), path.join(bin, 'helm'))
  const log = path.join(dir, 'minikube-calls.log')
  writeMinikubeScript(bin, dir, log)

  const api = await FakeKubeApiServer.start()
  const kubeconfig = path.join(dir, 'kubeconfig')
  const server =
    target === 'fake-api' ? api.url : target === 'closed-port' ? `http://127.0.0.1:${await closedPort()}` : ''
  if (target !== 'missing') writeKubeconfig(kubeconfig, server)

  const home = path.join(dir, 'home')
  mkdirSync(home)
  return {
    dir,
    api,
    kubeconfig,
    server,
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      KUBECONFIG: kubeconfig,
      HOME: home,
      XDG_CACHE_HOME: path.join(home, '.cache'),
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      NO_COLOR: '1',
      ...WIRED_SECRETS,
    },
    minikubeCalls: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter((line) => line !== '')
        : [],
    remove: async () => {
      await api.stop()
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

/** A port that was free a moment ago: bound, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A kubeconfig shaped like minikube's (context, cluster and user named after the profile), with token auth. */
function writeKubeconfig(file: string, server: string): void {
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: ${WIRED_CONTEXT}`,
      '  cluster:',
      `    server: ${server}`,
      // The fake speaks plain HTTP; client-node refuses http:// unless TLS verification is off.
      '    insecure-skip-tls-verify: true',
      'users:',
      `- name: ${WIRED_CONTEXT}`,
      '  user:',
      '    token: fake-token',
      'contexts:',
      `- name: ${WIRED_CONTEXT}`,
      '  context:',
      `    cluster: ${WIRED_CONTEXT}`,
      `    user: ${WIRED_CONTEXT}`,
      '    namespace: default',
      `current-context: ${WIRED_CONTEXT}`,
      '',
    ].join('\n'),
    {mode: 0o600},
  )
}

/**
 * A `minikube` that answers the commands MinikubeCluster runs with the recorded outputs of
 * test/fixtures/minikube, for a running containerd profile (so images reach it by `image load`).
 * Anything else exits 64, so a command the adapter starts to run unannounced fails the test visibly.
 */
function writeMinikubeScript(bin: string, dir: string, log: string): void {
  const fixtures = path.join(dir, 'minikube-fixtures')
  mkdirSync(fixtures)
  for (const name of [
    'status-running.json',
    'image-ls-not-listed.json',
    'service-url-linux.stdout',
    'ip.txt',
    'version-short.txt',
  ])
    copyFileSync(path.join(MINIKUBE_FIXTURES, name), path.join(fixtures, name))
  // The recorded profile list is of a profile named "todo": the same profile, named after the context.
  const profiles = JSON.parse(
    readFileSync(path.join(MINIKUBE_FIXTURES, 'profile-list-containerd.json'), 'utf8'),
  ) as {
    valid: {Name: string; Config: {Name: string; KubernetesConfig: {ClusterName: string}}}[]
  }
  for (const profile of profiles.valid) {
    profile.Name = WIRED_CONTEXT
    profile.Config.Name = WIRED_CONTEXT
    profile.Config.KubernetesConfig.ClusterName = WIRED_CONTEXT
  }
  writeFileSync(path.join(fixtures, 'profile-list.json'), JSON.stringify(profiles))

  const script = `#!/bin/sh
printf '%s\\n' "$*" >> '${log}'
fixtures='${fixtures}'
[ "$1" = "-p" ] && [ "$2" = "${WIRED_CONTEXT}" ] || { echo "minikube script: expected -p ${WIRED_CONTEXT} first, got: $*" >&2; exit 64; }
shift 2
case "$*" in
  'status -o json') cat "$fixtures/status-running.json" ;;
  'profile list -o json') cat "$fixtures/profile-list.json" ;;
  'image ls --format json') cat "$fixtures/image-ls-not-listed.json" ;;
  'image load '*) exit 0 ;;
  'service '*' --url') cat "$fixtures/service-url-linux.stdout" ;;
  'ip') cat "$fixtures/ip.txt" ;;
  'version --short') cat "$fixtures/version-short.txt" ;;
  *) echo "minikube script: unexpected command: $*" >&2; exit 64 ;;
esac
`
  writeFileSync(path.join(bin, 'minikube'), script, {mode: 0o755})
}
