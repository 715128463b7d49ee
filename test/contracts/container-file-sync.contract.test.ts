import {chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {ExecContainerFileSync} from '../../src/lib/kube/exec-file-sync.js'
import {KubeConnection} from '../../src/lib/kube/kube-connection.js'
import {CONTAINER_TOOLS, ExecApiServer, execContainer} from '../support/exec-server.js'
import {CallLog} from '../support/fakes/call-log.js'
import {FakeContainerFileSync} from '../support/fakes/fake-container-file-sync.js'
import {FAKE_CONTEXT, FakeKubeApiServer, kubeConfigFor} from '../support/kube-api-server.js'
import {containerFileSyncContract, type FileSyncContractSubject} from './container-file-sync.contract.js'

const NAMESPACE = 'todo-app-dev'
const CONTAINER = 'app'

containerFileSyncContract('FakeContainerFileSync', async (): Promise<FileSyncContractSubject> => {
  const sync = new FakeContainerFileSync(new CallLog())
  return {
    sync,
    addPod: async (name, traits = {}) => {
      sync.set(name, traits)
      return {namespace: NAMESPACE, pod: name, container: CONTAINER}
    },
    read: (target, containerPath) => sync.files(target.pod, target.container).get(containerPath) ?? null,
    close: async () => undefined,
  }
})

containerFileSyncContract(
  'ExecContainerFileSync over a WebSocket exec server that runs sh and tar for real',
  async (): Promise<FileSyncContractSubject> => {
    const api = await FakeKubeApiServer.start()
    const server = await ExecApiServer.start(api)
    const kc = kubeConfigFor(server)
    const connection = new KubeConnection({kc, context: FAKE_CONTEXT, server: server.url})
    const roots = new Map<string, string>()
    const folders: string[] = []
    return {
      sync: new ExecContainerFileSync(connection, kc, 10_000),
      addPod: async (name, traits = {}) => {
        api.seed('pods', {apiVersion: 'v1', kind: 'Pod', metadata: {name, namespace: NAMESPACE}})
        const root = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-container-'))
        const tools = traits.noTar ? CONTAINER_TOOLS.filter((tool) => tool !== 'tar') : CONTAINER_TOOLS
        const container = execContainer(root, tools)
        folders.push(root, container.bin)
        server.setContainer(name, CONTAINER, container)
        mkdirSync(path.join(root, 'app'))
        chownSync(path.join(root, 'app'), ExecApiServer.runsAs.uid, ExecApiServer.runsAs.gid)
        // Root's folders, and read-only: the container's user can write to neither.
        for (const folder of traits.readOnly ?? [])
          mkdirSync(path.join(root, folder), {recursive: true, mode: 0o555})
        roots.set(name, root)
        return {namespace: NAMESPACE, pod: name, container: CONTAINER}
      },
      read: (target, containerPath) => {
        try {
          return readFileSync(path.join(roots.get(target.pod) ?? '/nonexistent', containerPath), 'utf8')
        } catch {
          return null
        }
      },
      close: async () => {
        await server.stop()
        await api.stop()
        for (const folder of folders) rmSync(folder, {recursive: true, force: true})
      },
    }
  },
)
