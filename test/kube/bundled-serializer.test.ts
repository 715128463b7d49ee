import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {ObjectSerializer} from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js'
import {build, type Plugin} from 'esbuild'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

// @ts-expect-error: a plain ESM build script, without types.
import {clientNodeUsedModels} from '../../scripts/client-node-plugins.mjs'
import {projectRoot} from '../support/run-command.js'

// The bundle's ObjectSerializer holds only the models kube-api.ts's calls reach (scripts/bundle.mjs): it
// must turn recorded API objects into exactly what client-node's full serializer makes of them.

type Serializer = typeof ObjectSerializer
const FIXTURES = path.join(projectRoot, 'test', 'fixtures')
const work = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-serializer-'))
let bundled: Serializer
let bundledBytes = 0
let fullBytes = 0

async function bundleSerializer(plugins: Plugin[]): Promise<string> {
  const result = await build({
    stdin: {
      contents:
        "export {ObjectSerializer} from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js'",
      resolveDir: projectRoot,
    },
    absWorkingDir: projectRoot,
    bundle: true,
    platform: 'node',
    format: 'esm',
    minifyWhitespace: true,
    write: false,
    logLevel: 'silent',
    plugins,
  })
  return result.outputFiles[0]?.text ?? ''
}

beforeAll(async () => {
  const source = await bundleSerializer([clientNodeUsedModels as Plugin])
  bundledBytes = Buffer.byteLength(source)
  fullBytes = Buffer.byteLength(await bundleSerializer([]))
  const file = path.join(work, 'serializer.mjs')
  writeFileSync(file, source)
  ;({ObjectSerializer: bundled} = (await import(pathToFileURL(file).href)) as {ObjectSerializer: Serializer})
})

afterAll(() => rmSync(work, {recursive: true, force: true}))

/** Recorded API objects: the rollout scenarios' watch events (pods, Deployments, ReplicaSets, events) and a node. */
function recordedObjects(): {kind: string; object: Record<string, unknown>}[] {
  const k8s = path.join(FIXTURES, 'k8s')
  const fromEvents = readdirSync(k8s, {withFileTypes: true})
    .filter((entry) => entry.isDirectory() && existsSync(path.join(k8s, entry.name, 'events.jsonl')))
    .flatMap((entry) =>
      readFileSync(path.join(k8s, entry.name, 'events.jsonl'), 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => (JSON.parse(line) as {object: Record<string, unknown>}).object),
    )
  const node = JSON.parse(
    readFileSync(path.join(FIXTURES, 'real-cluster', 'node-status-images.json'), 'utf8'),
  )
  return [...fromEvents, node].map((object) => ({kind: String(object.kind), object}))
}

const modelOf = (kind: string): string => (kind === 'Event' ? 'CoreV1Event' : `V1${kind}`)

/**
 * The value with each object's class and each Date spelled out, so that equal shapes mean equal types.
 * esbuild names a class `_V1Pod` when its own methods refer to it (any bundle of client-node does).
 */
function typed(value: unknown): unknown {
  if (value instanceof Date) return {date: value.toISOString()}
  if (Array.isArray(value)) return value.map(typed)
  if (value !== null && typeof value === 'object')
    return {
      class: value.constructor.name.replace(/^_/, ''),
      ...Object.fromEntries(Object.entries(value).map(([key, field]) => [key, typed(field)])),
    }
  return value
}

describe("the bundle's ObjectSerializer", () => {
  it('is a fraction of the full one (the models no call reaches are left out)', () => {
    expect(bundledBytes).toBeLessThan(fullBytes / 3)
  })

  it('deserializes every recorded object and list as client-node does: same classes, same dates, same fields', () => {
    const objects = recordedObjects()
    expect(new Set(objects.map(({kind}) => kind))).toEqual(
      new Set(['Deployment', 'ReplicaSet', 'Pod', 'Event', 'Node', 'EndpointSlice']),
    )
    for (const {kind, object} of objects) {
      const model = modelOf(kind)
      expect(typed(bundled.deserialize(object, model, '')), model).toEqual(
        typed(ObjectSerializer.deserialize(object, model, '')),
      )
    }
    for (const kind of ['Pod', 'Deployment', 'Node']) {
      const list = {
        kind: `${kind}List`,
        items: objects.filter((one) => one.kind === kind).map((one) => one.object),
      }
      const model = `${modelOf(kind)}List`
      expect(typed(bundled.deserialize(list, model, ''))).toEqual(
        typed(ObjectSerializer.deserialize(list, model, '')),
      )
    }
  })

  it('serializes request bodies as client-node does', () => {
    const [pod] = recordedObjects().filter(({kind}) => kind === 'Pod')
    const typedPod = ObjectSerializer.deserialize(pod?.object, 'V1Pod', '')
    expect(bundled.serialize(typedPod, 'V1Pod', '')).toEqual(
      ObjectSerializer.serialize(typedPod, 'V1Pod', ''),
    )
    const lease = {
      metadata: {name: 'todo-chatbot-lock'},
      spec: {renewTime: new Date(0), holderIdentity: 'me'},
    }
    expect(bundled.serialize(lease, 'V1Lease', '')).toEqual(ObjectSerializer.serialize(lease, 'V1Lease', ''))
  })
})
