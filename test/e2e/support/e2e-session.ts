import {afterAll, beforeAll} from 'vitest'

import {ClusterTools} from './cluster-tools.js'
import {E2eProject} from './e2e-project.js'
import {removeRelease} from './release-cleanup.js'
import {TodoDeployCli} from './todo-deploy-cli.js'

export interface E2eSession {
  readonly tools: ClusterTools
  readonly project: E2eProject
  readonly cli: TodoDeployCli
}

/**
 * Registers the hooks of one flow (call it inside the flow's describe): beforeAll proves the cluster
 * answers (or fails the flow at once) and creates a fresh project (pushing to `registry` when given);
 * afterAll removes the release.
 */
export function useE2eSession(options: ConstructorParameters<typeof E2eProject>[1] = {}): E2eSession {
  let state: E2eSession | undefined
  const current = (): E2eSession => {
    if (state === undefined) throw new Error('the e2e session is not set up (its beforeAll failed)')
    return state
  }

  beforeAll(async () => {
    const tools = await ClusterTools.connect()
    const project = new E2eProject(tools.context, options)
    const cli = new TodoDeployCli({cwd: project.dir, env: project.cliEnv(tools.cliPath())})
    state = {tools, project, cli}
  })

  afterAll(async () => {
    if (state !== undefined) await removeRelease(state.project, state.cli, state.tools)
  })

  return {
    get tools() {
      return current().tools
    },
    get project() {
      return current().project
    },
    get cli() {
      return current().cli
    },
  }
}
