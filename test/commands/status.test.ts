import {describe, expect, test, vi} from 'vitest'
import {z} from 'zod'

import Status from '../../src/commands/status.js'
import Up from '../../src/commands/up.js'
import {InterruptedError} from '../../src/lib/errors.js'
import {helmFailure} from '../../src/lib/helm/helm-errors.js'
import type {StatusReport} from '../../src/lib/lifecycle/status.js'
import {runUp, type UpResult} from '../../src/lib/lifecycle/up.js'
import {FakeCluster, podObject, testSecrets, type TestProject} from '../support/fake-connection.js'
import {runCommand} from '../support/run-command.js'
import {NAMESPACE, RELEASE, phaseRunning, tempProject, useFakeCluster} from '../support/lifecycle-fixtures.js'

/**
 * The StatusReport exactly as README.md "status --json" documents it: strict objects, so a field the
 * code adds or renames without the README fails here.
 */
const isoDate = z.iso.datetime()
const phaseRecord = z.strictObject({
  phase: z.string(),
  state: z.enum(['pending', 'running', 'succeeded', 'failed', 'skipped', 'interrupted']),
  startedAt: isoDate,
  endedAt: isoDate.optional(),
  durationMs: z.number().int().nonnegative().optional(),
  skipReason: z.string().optional(),
  detail: z.string().optional(),
})
const statusReportSchema = z.strictObject({
  release: z
    .strictObject({
      name: z.string(),
      namespace: z.string(),
      revision: z.number().int().positive(),
      status: z.string(),
      chart: z.string(),
      chartVersion: z.string(),
      appVersion: z.string(),
      deployedAt: isoDate.nullable(),
      description: z.string(),
    })
    .nullable(),
  state: z.enum([
    'NotDeployed',
    'Initial',
    'Building',
    'Loading',
    'Deploying',
    'Starting',
    'Updating',
    'Running',
    'Healthy',
    'Failed',
    'RollingBack',
    'Removing',
    'Removed',
  ]),
  stateReason: z.string().min(1),
  lastOperation: z
    .strictObject({
      id: z.string(),
      command: z.string(),
      startedAt: isoDate,
      endedAt: isoDate.optional(),
      result: z.enum(['running', 'succeeded', 'failed', 'interrupted', 'abandoned']),
      lockExpiredAt: isoDate.nullable().optional(),
      interruptedPhase: z.string().optional(),
      state: z.string().optional(),
      revision: z.number().int().optional(),
      url: z.string().optional(),
      tags: z.record(z.string(), z.string()).optional(),
      phases: z.array(phaseRecord),
    })
    .nullable(),
  deployments: z.array(
    z.strictObject({
      name: z.string(),
      desired: z.number().int(),
      updated: z.number().int(),
      ready: z.number().int(),
      available: z.number().int(),
      images: z.array(z.string()),
      tags: z.array(z.string()),
      condition: z.string(),
      rolledOut: z.boolean(),
    }),
  ),
  pods: z.array(
    z.strictObject({
      name: z.string(),
      deployment: z.string().nullable(),
      phase: z.string(),
      ready: z.string().regex(/^\d+\/\d+$/),
      restarts: z.number().int().nonnegative(),
      ageSeconds: z.number().int().nonnegative(),
      explanation: z.string().min(1),
      failing: z.boolean(),
    }),
  ),
  services: z.array(
    z.strictObject({
      name: z.string(),
      type: z.string(),
      port: z.number().int(),
      targetPort: z.string(),
      nodePort: z.number().int().nullable(),
      url: z.string().nullable(),
    }),
  ),
  ingresses: z.array(
    z.strictObject({
      name: z.string(),
      className: z.string().nullable(),
      hosts: z.array(z.string()),
      address: z.string().nullable(),
    }),
  ),
})

let fake = new FakeCluster()
useFakeCluster((created) => {
  fake = created
})

async function deploy(p: TestProject): Promise<void> {
  fake.kubeletFollowsHelm(p.resolved)
  const run = await runCommand<UpResult>(Up, [], {cwd: p.dir})
  expect(run.exitCode).toBe(0)
}

async function statusJson(p: TestProject): Promise<StatusReport> {
  const run = await runCommand<StatusReport>(Status, ['--json'], {cwd: p.dir})
  expect(run.exitCode).toBe(0)
  return statusReportSchema.parse(JSON.parse(run.stdout)) as StatusReport
}

describe('todo-deploy status', () => {
  test('nothing deployed: "not deployed", exit 0; --json: release null, state NotDeployed', async () => {
    const p = tempProject()
    const run = await runCommand<StatusReport>(Status, [], {cwd: p.dir})
    expect(run.exitCode).toBe(0)
    expect(run.stdout.trim()).toBe('not deployed')

    const json = await statusJson(p)
    expect(json).toMatchObject({
      release: null,
      state: 'NotDeployed',
      lastOperation: null,
      deployments: [],
      pods: [],
    })
    expect(fake.closed).toBe(2)
  })

  test('a deployed release: the state, every deployment, pod and service, and the URL', async () => {
    const p = tempProject()
    await deploy(p)
    const run = await runCommand<StatusReport>(Status, [], {cwd: p.dir})
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toContain(
      'release    todo-chatbot in todo-app-dev: revision 1 deployed (Install complete)',
    )
    expect(run.stdout).toContain('state      Healthy: every pod is ready and the last health check passed')
    expect(run.stdout).toMatch(/todo-backend-5d8ffc89b7-ztfmf .*Running, ready/)
    expect(run.stdout).toContain('http://192.168.49.2:30080')
    expect(run.stdout).toMatch(
      /last operation: up succeeded at \S+\n {2}preflight succeeded \d+ms, build succeeded/,
    )
  })

  test('the cluster is unreachable: exit 3 with what helm said and how to fix it', async () => {
    const p = tempProject()
    vi.spyOn(fake.helm, 'status').mockRejectedValue(
      helmFailure(
        {
          exitCode: 1,
          stdout: '',
          stderr:
            'Error: Kubernetes cluster unreachable: Get "https://192.168.49.2:8443/version": dial tcp 192.168.49.2:8443: connect: connection refused\n',
        },
        {
          operation: 'helm status',
          release: 'todo-chatbot',
          namespace: 'todo-app-dev',
          kubeContext: 'minikube',
          kind: 'read',
          masked: [],
        },
      ),
    )
    const run = await runCommand<StatusReport>(Status, [], {cwd: p.dir})
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toContain('helm cannot reach the cluster of kube context "minikube"')
    expect(run.stderr).toContain('fix: start the cluster (`minikube start`)')

    const json = await runCommand<StatusReport>(Status, ['--json'], {cwd: p.dir})
    expect(json.exitCode).toBe(3)
    expect(JSON.parse(json.stdout)).toMatchObject({error: {exitCode: 3, kind: 'PrerequisiteError'}})
  })
})

describe('status --json matches the schema the README documents', () => {
  test('healthy, then a crash-looping pod after an interrupted operation: every output validates', async () => {
    const p = tempProject()
    await deploy(p)
    const healthy = await statusJson(p)
    expect(healthy.state).toBe('Healthy')
    expect(healthy.lastOperation?.phases.length).toBeGreaterThan(0)

    // An interrupted up, then the backend's pod crash-loops.
    p.write('backend/app/health', 'v2\n')
    fake.rollout.script.push({status: 'hang'})
    const controller = new AbortController()
    fake.log.onCall = (name) => {
      if (name === 'rollout.wait') void phaseRunning(fake, 'rollout').then(() => controller.abort())
    }
    const interrupted = await runUp(p.resolved, fake.connection, testSecrets(), {
      build: true,
      wait: true,
      timeoutMs: 60_000,
      rollbackOnFailure: true,
      dryRun: false,
      force: false,
      valuesFiles: [],
      set: [],
      holder: 'tester@laptop pid 4242',
      renderer: 'silent',
      signal: controller.signal,
    }).catch((error: unknown) => error)
    expect(interrupted).toBeInstanceOf(InterruptedError)
    fake.log.onCall = undefined
    const pods = fake.workloads.current.pods.map((pod) =>
      pod.metadata?.name?.startsWith('todo-backend')
        ? podObject({
            name: pod.metadata.name,
            deployment: 'todo-backend',
            container: 'backend',
            image: 'todo-backend:c-0123456789ab',
            condition: {crashLoop: {restarts: 4, exitCode: 1}},
          })
        : pod,
    )
    fake.workloads.publish({pods})

    const failing = await statusJson(p)
    expect(failing.state).toBe('Failed')
    expect(failing.lastOperation).toMatchObject({
      command: 'up',
      result: 'interrupted',
      interruptedPhase: 'rollout',
    })
    expect(failing.pods.find((pod) => pod.failing)?.explanation).toBe('CrashLoopBackOff: exited 1 4 times')
  })
})

describe('status tells a live operation from one whose process died', () => {
  /** The record an `up` leaves when its process dies mid-rollout: still `running`, never finished. */
  async function upDiedMidRollout(p: TestProject): Promise<string> {
    await deploy(p)
    const record = await fake.state.read(NAMESPACE, RELEASE)
    if (!record) throw new Error('no record')
    const {endedAt: _endedAt, ...operation} = record.operation
    await fake.state.write(NAMESPACE, RELEASE, {
      ...record,
      operation: {...operation, result: 'running', state: 'Updating', startedAt: '2026-11-21T19:58:00.000Z'},
    })
    return operation.id
  }

  test('an unfinished record whose Lease expired reads "did not finish"; --json says abandoned', async () => {
    const p = tempProject()
    await upDiedMidRollout(p)
    fake.lock.setLease(RELEASE, NAMESPACE, {
      holder: 'tester@laptop pid 4242',
      command: 'todo-deploy up',
      expiresAt: new Date('2026-11-21T19:59:30.000Z'),
    })
    const human = await runCommand<StatusReport>(Status, [], {cwd: p.dir})
    expect(human.stdout).toContain(
      'the last `up` did not finish (started 2026-11-21T19:58:00.000Z, its lock expired 2026-11-21T19:59:30.000Z); run `todo-deploy up`',
    )
    expect(human.stdout).not.toContain('is running')
    const json = await statusJson(p)
    expect(json.lastOperation).toMatchObject({result: 'abandoned', lockExpiredAt: '2026-11-21T19:59:30.000Z'})
    // The pods run and are ready, but no finished operation verified their health.
    expect(json.state).toBe('Running')
  })

  test('an unfinished record whose Lease is gone is abandoned too', async () => {
    const p = tempProject()
    await upDiedMidRollout(p)
    const json = await statusJson(p)
    expect(json.lastOperation).toMatchObject({result: 'abandoned', lockExpiredAt: null})
    expect(json.stateReason).toContain('its lock is gone); run `todo-deploy up`')
  })

  test('while the Lease is held and renewed, the operation is running', async () => {
    const p = tempProject()
    await upDiedMidRollout(p)
    fake.lock.holdBy(RELEASE, NAMESPACE, 'someone@elsewhere pid 7')
    const json = await statusJson(p)
    expect(json.lastOperation?.result).toBe('running')
    expect(json).toMatchObject({state: 'Updating', stateReason: '`todo-deploy up` is running'})
  })
})
