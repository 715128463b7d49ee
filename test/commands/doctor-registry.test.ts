import {afterAll, beforeAll, describe, expect, test} from 'vitest'

import Doctor from '../../src/commands/doctor.js'
import {SystemPreflight, type RegistryProbe} from '../../src/lib/doctor/preflight.js'
import {ExecaProcessRunner} from '../../src/lib/process/runner.js'
import type {RegistryAddress} from '../../src/lib/registry/registry-address.js'
import {setAllSecrets, withPreflight} from '../cli/doctor-env.js'
import {PassingPreflight} from '../cli/fake-preflight.js'
import {DEFAULT_CONTEXT_FOLDERS, tempProject} from '../config/temp-project.js'
import {testDockerLogin, type TestDockerLogin} from '../support/docker-login.js'
import {inCI} from '../support/real-components.js'
import {freePort, registryAvailable, startRegistry, type RunningRegistry} from '../support/registry-server.js'
import {runCommand} from '../support/run-command.js'

const SENTINEL = 'test-secret-value'

/** A ready machine whose registry probe is the real one: a real registry, a real credential helper. */
class RealRegistryPreflight extends PassingPreflight {
  constructor(private readonly env: NodeJS.ProcessEnv) {
    super()
  }

  override registry(address: RegistryAddress): Promise<RegistryProbe> {
    return new SystemPreflight(new ExecaProcessRunner(), this.env).registry(address)
  }
}

let probes: PassingPreflight = new PassingPreflight()
withPreflight(() => probes)

describe.skipIf(!registryAvailable && !inCI)(
  'doctor checks the configured registry (real docker-registry 2.8)',
  () => {
    let open: RunningRegistry
    let secured: RunningRegistry
    let good: TestDockerLogin
    let wrong: TestDockerLogin
    beforeAll(async () => {
      ;[open, secured] = await Promise.all([
        startRegistry(),
        startRegistry({login: {username: 'ci', password: SENTINEL}}),
      ])
      good = await testDockerLogin({
        config: {credsStore: 'todo-test'},
        helpers: {'todo-test': {[secured.host]: {username: 'ci', secret: SENTINEL}}},
      })
      wrong = await testDockerLogin({
        config: {auths: {[secured.host]: {auth: Buffer.from(`ci:${SENTINEL}-wrong`).toString('base64')}}},
      })
    })
    afterAll(async () => {
      await open?.stop()
      await secured?.stop()
      await good?.remove()
      await wrong?.remove()
    })

    async function doctor(registryYaml: string, login: TestDockerLogin, argv: string[] = []) {
      setAllSecrets()
      probes = new RealRegistryPreflight(login.env)
      const run = await runCommand<unknown>(Doctor, argv, {
        cwd: tempProject({...DEFAULT_CONTEXT_FOLDERS, 'todo-deploy.yaml': `registry:\n${registryYaml}`}),
      })
      expect(`${run.stdout}${run.stderr}`).not.toContain(SENTINEL)
      return run
    }

    test('an open registry on this machine: reachable, and no login needed', async () => {
      const run = await doctor(`  url: ${open.host}/team\n  insecure: true\n`, good)
      expect(run.exitCode).toBe(0)
      expect(run.stdout).toContain(
        `✔ registry ${open.host} reachable [prereq.registry]: the registry API answers at http://${open.host}/v2/\n`,
      )
      expect(run.stdout).toContain(
        `✔ registry ${open.host} accepts the Docker login [prereq.registry-auth]: the registry lets clients in without a login (none is in the Docker config)\n`,
      )
      // Images from the registry are pulled (IfNotPresent by default): the loaded-images rule gives way.
      expect(run.stdout).toContain('✔ pullPolicy IfNotPresent for registry images [k8s.pull-policy.registry]')
      expect(run.stdout).not.toContain('k8s.pull-policy.never')
    })

    test('a registry with a login, the credentials from a credential helper: both pass', async () => {
      const run = await doctor(`  url: ${secured.host}\n  insecure: true\n`, good)
      expect(run.exitCode).toBe(0)
      expect(run.stdout).toContain(
        `✔ registry ${secured.host} accepts the Docker login [prereq.registry-auth]: the credentials from docker-credential-todo-test are accepted\n`,
      )
    })

    test('a wrong password: the login check fails with `docker login <host>`, exit 3', async () => {
      const run = await doctor(`  url: ${secured.host}\n  insecure: true\n`, wrong)
      expect(run.exitCode).toBe(3)
      expect(run.stdout).toContain(`✔ registry ${secured.host} reachable [prereq.registry]`)
      expect(run.stdout).toContain(
        `✖ registry ${secured.host} accepts the Docker login [prereq.registry-auth]: registry ${secured.host} refused the Docker credentials while checking the login (HTTP 401)\n    fix: log in: \`docker login ${secured.host}\`\n`,
      )
    })

    test('an unreachable registry: the address tried, and the login check skipped, exit 3', async () => {
      const port = await freePort()
      const run = await doctor(`  url: 127.0.0.1:${port}\n  insecure: true\n`, good)
      expect(run.exitCode).toBe(3)
      expect(run.stdout).toContain(
        `✖ registry 127.0.0.1:${port} reachable [prereq.registry]: registry 127.0.0.1:${port} is not reachable at http://127.0.0.1:${port}/v2/: ECONNREFUSED\n`,
      )
      expect(run.stdout).toContain(
        `✖ registry 127.0.0.1:${port} accepts the Docker login [prereq.registry-auth]: skipped: the registry is not reachable\n`,
      )
    })

    test('a remote context: no cluster-tool check (there is none), the registry checks instead', async () => {
      const run = await doctor(`  url: ${secured.host}\n  insecure: true\n`, good, [
        '--context',
        'gke_project_europe-west1_dev',
        '--json',
      ])
      expect(run.exitCode).toBe(0)
      const checks = JSON.parse(run.stdout) as {id: string; detail: string}[]
      const ids = checks.map((check) => check.id)
      expect(ids.slice(0, 6)).toEqual([
        'prereq.docker',
        'prereq.helm',
        'prereq.kube-context',
        'prereq.cluster',
        'prereq.registry',
        'prereq.registry-auth',
      ])
      expect(checks[2]?.detail).toMatch(/^context "gke_project_europe-west1_dev" \(remote\)/)
      expect(probes.clustersAsked).toEqual([])
    })
  },
)
