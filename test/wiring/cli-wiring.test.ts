import {afterEach, describe, expect, it, onTestFinished} from 'vitest'

import Doctor from '../../src/commands/doctor.js'
import Status from '../../src/commands/status.js'
import Up from '../../src/commands/up.js'
import type {StatusReport} from '../../src/lib/lifecycle/status.js'
import {DEFAULT_CONTEXT_FOLDERS, tempProject} from '../config/temp-project.js'
import {dockerAvailable, inCI} from '../support/real-components.js'
import {seedDeployedRelease} from '../support/deployed-release.js'
import {runCommand} from '../support/run-command.js'
import {
  startWiredMachine,
  WIRED_SECRETS,
  type KubeconfigTarget,
  type WiredMachine,
} from './support/wired-machine.js'
import {createWiredProject, type WiredProject} from './support/wired-project.js'

// The commands with `realDependencies` (real client-node, HelmCli on the real helm 3.17, MinikubeCluster
// through ExecaProcessRunner, DockerImageBuilder on the real engine): only the API server and minikube are stand-ins.

let machine: WiredMachine | undefined

afterEach(async () => {
  await machine?.stop()
  machine = undefined
})

async function wiredMachine(target?: KubeconfigTarget): Promise<WiredMachine> {
  machine = await startWiredMachine(target)
  return machine
}

function wiredProject(): WiredProject {
  const project = createWiredProject()
  onTestFinished(() => project.remove())
  return project
}

/** The line `doctor` printed for a check id. */
function doctorLine(stdout: string, id: string): string {
  return stdout.split('\n').find((line) => line.includes(`[${id}]`)) ?? `(no line for ${id} in:\n${stdout})`
}

/** Requests that would change the cluster: anything but reads. */
function writes(api: WiredMachine['api']): string[] {
  return api.requests
    .filter((request) => request.method !== 'GET')
    .map((request) => `${request.method} ${request.path}`)
}

describe("wiring: status through client-node, reading helm's release Secrets itself", () => {
  it('with nothing deployed prints "not deployed" and exits 0; --json says release null, NotDeployed', async () => {
    const {api} = await wiredMachine()
    const dir = tempProject()

    const human = await runCommand(Status, [], {cwd: dir})
    expect(human.stderr).toBe('')
    expect(human.stdout.trim()).toBe('not deployed')
    expect(human.exitCode).toBe(0)

    const json = await runCommand<StatusReport>(Status, ['--json'], {cwd: dir})
    expect(json.exitCode).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({
      release: null,
      state: 'NotDeployed',
      pods: [],
      deployments: [],
    })
    // The release was read from helm's storage Secrets with the kubeconfig's token; nothing was written.
    const releaseList = api.requests.find(
      (request) =>
        request.path === '/api/v1/namespaces/todo-app-dev/secrets' &&
        request.query.get('labelSelector') === 'owner=helm,name=todo-chatbot',
    )
    expect(releaseList?.authorization).toBe('Bearer fake-token')
    expect(writes(api)).toEqual([])
    const record = api.requests.find((request) =>
      request.path.endsWith('/configmaps/todo-deploy-state-todo-chatbot'),
    )
    expect(record?.authorization).toBe('Bearer fake-token')
  })

  it('reads a context of no known cluster kind (status only reads); up there still exits 2 naming cluster.kind', async () => {
    const {api} = await wiredMachine()
    const {release} = seedDeployedRelease(api)
    // The profile is not the context's name, so "minikube" is no context any local tool would write.
    const dir = tempProject({
      ...DEFAULT_CONTEXT_FOLDERS,
      'todo-deploy.yaml': 'cluster:\n  profile: elsewhere\n',
    })

    const run = await runCommand<StatusReport>(Status, ['--json'], {cwd: dir})
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({release: {name: release}, state: 'Healthy'})

    const up = await runCommand(Up, ['--dry-run'], {cwd: dir})
    expect(up.exitCode).toBe(2)
    expect(up.stderr).toContain('cannot tell which local cluster the kube context "minikube" belongs to')
    expect(writes(api)).toEqual([])
  })

  it('with the API server unreachable exits 3 and names the server URL', async () => {
    const {server} = await wiredMachine('closed-port')

    const run = await runCommand(Status, [], {cwd: tempProject()})
    expect(run.exitCode).toBe(3)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain(`cannot reach the Kubernetes API at ${server}`)
    expect(run.stderr).toMatch(/where: kube context minikube/)
    expect(run.stderr).toMatch(/fix: is the cluster running\? Check with `minikube status`/)
  })
})

describe.skipIf(!dockerAvailable && !inCI)('wiring: doctor and up on the real Docker Engine', () => {
  it('doctor with every prerequisite present passes each prerequisite and exits 0', async () => {
    const {server} = await wiredMachine()

    const run = await runCommand(Doctor, [], {cwd: tempProject(DEFAULT_CONTEXT_FOLDERS)})
    const line = (id: string): string => doctorLine(run.stdout, id)
    expect(line('prereq.docker')).toMatch(
      /^✔ Docker Engine reachable \[prereq\.docker\]: Docker Engine \S+ \(API [\d.]+, builds with BuildKit\) at /,
    )
    expect(line('prereq.helm')).toMatch(/^✔ .*\[prereq\.helm\]: helm v3\.17\.\d+/)
    expect(line('prereq.kube-context')).toBe(
      `✔ kube context [prereq.kube-context]: context "minikube" (minikube, the minikube profile "minikube") at ${server}`,
    )
    expect(line('prereq.minikube')).toBe(
      '✔ minikube installed and the cluster running [prereq.minikube]: minikube v1.34.0; minikube profile "minikube" is running',
    )
    expect(line('prereq.cluster')).toBe(
      `✔ cluster reachable [prereq.cluster]: Kubernetes v1.32.0 at ${server}`,
    )
    expect(line('secrets.present')).toBe(
      `✔ secrets present [secrets.present]: 4 set: ${Object.keys(WIRED_SECRETS).join(', ')}`,
    )
    expect(run.stdout).toMatch(/\d+ passed, 0 warnings, 0 failed: ready to deploy/)
    expect(run.exitCode).toBe(0)
    for (const value of Object.values(WIRED_SECRETS))
      expect(`${run.stdout}${run.stderr}`).not.toContain(value)
    expect(machine?.minikubeCalls()).toEqual(['-p minikube version --short', '-p minikube status -o json'])
  })

  it('up --dry-run prints the plan and the manifests helm template renders, and changes nothing', async () => {
    const {api} = await wiredMachine()
    const project = wiredProject()

    const run = await runCommand(Up, ['--dry-run'], {cwd: project.dir})
    expect(run.exitCode, run.stderr).toBe(0)
    const {frontend, backend} = project.repositories
    expect(run.stdout).toContain('Plan (nothing was changed):')
    const planned = (repository: string): string => {
      const ref = `${repository}:c-[0-9a-f]{12}`
      const line = new RegExp(
        `^  \\w+: (${ref})\\n    build: yes, the engine has no (${ref}): the \\w+ source changed$`,
        'm',
      ).exec(run.stdout)
      expect(line, `a plan line for ${repository} in:\n${run.stdout}`).not.toBeNull()
      expect(line?.[2]).toBe(line?.[1])
      return line?.[1] as string
    }
    const refs = [planned(frontend), planned(backend)]
    expect(run.stdout).toContain('images reach the cluster by: load')
    // The real helm rendered the bundled chart with the planned content tags.
    const manifests = run.stdout.split('Rendered manifests (helm template):\n')[1] ?? ''
    expect(manifests.match(/^kind: Deployment$/gm)).toHaveLength(2)
    for (const ref of refs) expect(manifests).toContain(`image: "${ref}"`)
    for (const value of Object.values(WIRED_SECRETS))
      expect(`${run.stdout}${run.stderr}`).not.toContain(value)

    // Nothing changed: no write to the API, no Secret / Namespace / Lease, no image load, no image built.
    expect(writes(api)).toEqual([])
    expect(api.list('secrets')).toEqual([])
    expect(api.list('namespaces')).toEqual([])
    expect(api.list('leases')).toEqual([])
    expect(machine?.minikubeCalls()).toEqual([
      '-p minikube status -o json',
      '-p minikube profile list -o json',
    ])
    expect(await project.localImages()).toEqual([])
  })

  it('up with no kubeconfig at all exits 3 with the fix and builds nothing', async () => {
    const {kubeconfig} = await wiredMachine('missing')
    const project = wiredProject()

    const run = await runCommand(Up, [], {cwd: project.dir})
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toContain(`no kubeconfig found at KUBECONFIG=${kubeconfig}`)
    expect(run.stderr).toMatch(
      /fix: start minikube \(`minikube start` writes ~\/\.kube\/config\), or point KUBECONFIG/,
    )
    expect(machine?.minikubeCalls()).toEqual([])
    expect(await project.localImages()).toEqual([])
  })
})
