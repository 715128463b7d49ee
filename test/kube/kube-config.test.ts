import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {ExitCode, PrerequisiteError} from '../../src/lib/errors.js'
import {loadKubeConfig} from '../../src/lib/kube/kube-config.js'

const KUBECONFIG_TWO_CONTEXTS = `apiVersion: v1
kind: Config
clusters:
- name: minikube
  cluster: {server: 'https://192.168.49.2:8443', insecure-skip-tls-verify: true}
- name: staging
  cluster: {server: 'https://staging.example.test:6443', insecure-skip-tls-verify: true}
users:
- name: me
  user: {token: fake-token}
contexts:
- name: minikube
  context: {cluster: minikube, user: me}
- name: staging
  context: {cluster: staging, user: me}
current-context: minikube
`

function caught(load: () => unknown): PrerequisiteError {
  try {
    load()
  } catch (error) {
    expect(error).toBeInstanceOf(PrerequisiteError)
    return error as PrerequisiteError
  }
  throw new Error('expected loadKubeConfig to throw')
}

describe('loadKubeConfig', () => {
  let home: string
  beforeEach(() => {
    home = mkdtempSync(path.join(tmpdir(), 'kube-config-'))
  })
  afterEach(() => rmSync(home, {recursive: true, force: true}))

  it('fails with exit 3 and says how to get a kubeconfig when ~/.kube/config does not exist (no silent localhost:8080)', () => {
    const error = caught(() => loadKubeConfig({env: {}, home}))
    expect(error.exitCode).toBe(ExitCode.Prerequisite)
    expect(error.message).toBe(`no kubeconfig found at ${path.join(home, '.kube', 'config')}`)
    expect(error.fix).toContain('minikube start')
    expect(error.fix).toContain('KUBECONFIG')
  })

  it('names KUBECONFIG when the files it lists do not exist', () => {
    const error = caught(() => loadKubeConfig({env: {KUBECONFIG: path.join(home, 'missing.yaml')}, home}))
    expect(error.message).toContain(`KUBECONFIG=${path.join(home, 'missing.yaml')}`)
  })

  it('reads the current context and its server', () => {
    const file = path.join(home, 'config.yaml')
    writeFileSync(file, KUBECONFIG_TWO_CONTEXTS)
    const loaded = loadKubeConfig({kubeconfig: file})
    expect(loaded.context).toBe('minikube')
    expect(loaded.server).toBe('https://192.168.49.2:8443')
    expect(loaded.kc.getCurrentContext()).toBe('minikube')
  })

  it('switches to the context asked for and reads KUBECONFIG', () => {
    const file = path.join(home, 'config.yaml')
    writeFileSync(file, KUBECONFIG_TWO_CONTEXTS)
    const loaded = loadKubeConfig({context: 'staging', env: {KUBECONFIG: file}, home})
    expect(loaded.server).toBe('https://staging.example.test:6443')
    expect(loaded.kc.getCurrentCluster()?.server).toBe('https://staging.example.test:6443')
  })

  it('refuses an unknown context and lists the available ones', () => {
    const file = path.join(home, 'config.yaml')
    writeFileSync(file, KUBECONFIG_TWO_CONTEXTS)
    const error = caught(() => loadKubeConfig({kubeconfig: file, context: 'kind-kind'}))
    expect(error.exitCode).toBe(ExitCode.Prerequisite)
    expect(error.message).toContain('"kind-kind"')
    expect(error.details.join('\n')).toContain('available contexts: minikube, staging')
    expect(error.where).toBe('--context')
  })

  it('refuses a kubeconfig without a current context and suggests one', () => {
    const file = path.join(home, 'config.yaml')
    writeFileSync(file, KUBECONFIG_TWO_CONTEXTS.replace('current-context: minikube\n', ''))
    const error = caught(() => loadKubeConfig({kubeconfig: file}))
    expect(error.message).toContain('has no current context')
    expect(error.fix).toContain('kubectl config use-context minikube')
  })
})
