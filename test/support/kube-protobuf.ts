/**
 * Reads the Kubernetes protobuf encoding of a Secret or a ConfigMap. client-go 1.31+ sends core objects
 * as protobuf (`application/vnd.kubernetes.protobuf`): helm's release storage writes its Secrets that way.
 * Only the fields those writes carry are read: name, namespace, resourceVersion, labels, annotations, data,
 * type, immutable. Field numbers are those of k8s.io/api's generated.proto.
 */

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00])

type Fields = Map<number, (Buffer | bigint)[]>

/** The fields of one protobuf message, by number (length-delimited values as Buffers, varints as bigints). */
function fieldsOf(buffer: Buffer): Fields {
  const fields: Fields = new Map()
  let at = 0
  const varint = (): bigint => {
    let result = 0n
    let shift = 0n
    for (;;) {
      const byte = buffer[at++]
      if (byte === undefined) throw new Error('truncated protobuf varint')
      result |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) return result
      shift += 7n
    }
  }
  while (at < buffer.length) {
    const tag = Number(varint())
    const field = tag >> 3
    let value: Buffer | bigint
    switch (tag & 7) {
      case 0:
        value = varint()
        break
      case 1:
        value = buffer.subarray(at, (at += 8))
        break
      case 2: {
        const length = Number(varint())
        value = buffer.subarray(at, (at += length))
        break
      }
      case 5:
        value = buffer.subarray(at, (at += 4))
        break
      default:
        throw new Error(`unsupported protobuf wire type ${tag & 7}`)
    }
    fields.set(field, [...(fields.get(field) ?? []), value])
  }
  return fields
}

function text(fields: Fields, field: number): string | undefined {
  const value = fields.get(field)?.[0]
  return Buffer.isBuffer(value) ? value.toString('utf8') : undefined
}

function map(fields: Fields, field: number, asText: boolean): Record<string, string> | undefined {
  const entries = fields.get(field)
  if (entries === undefined) return undefined
  const result: Record<string, string> = {}
  for (const entry of entries) {
    const pair = fieldsOf(entry as Buffer)
    const value = pair.get(2)?.[0]
    const bytes = Buffer.isBuffer(value) ? value : Buffer.alloc(0)
    result[text(pair, 1) ?? ''] = asText ? bytes.toString('utf8') : bytes.toString('base64')
  }
  return result
}

export function isProtobuf(body: Buffer): boolean {
  return body.subarray(0, 4).equals(MAGIC)
}

/** The Secret or ConfigMap in a protobuf request body, as the JSON object the API would store. */
export function decodeKubeProtobuf(body: Buffer): Record<string, unknown> {
  const unknown = fieldsOf(body.subarray(MAGIC.length))
  const typeMeta = fieldsOf((unknown.get(1)?.[0] as Buffer | undefined) ?? Buffer.alloc(0))
  const kind = text(typeMeta, 2)
  const object = fieldsOf((unknown.get(2)?.[0] as Buffer | undefined) ?? Buffer.alloc(0))
  const meta = fieldsOf((object.get(1)?.[0] as Buffer | undefined) ?? Buffer.alloc(0))
  const metadata = Object.fromEntries(
    Object.entries({
      name: text(meta, 1),
      generateName: text(meta, 2),
      namespace: text(meta, 3),
      resourceVersion: text(meta, 6) || undefined,
      labels: map(meta, 11, true),
      annotations: map(meta, 12, true),
    }).filter(([, value]) => value !== undefined),
  )
  if (kind === 'Secret') {
    const immutable = object.get(5)?.[0]
    return {
      apiVersion: text(typeMeta, 1),
      kind,
      metadata,
      data: map(object, 2, false),
      type: text(object, 3),
      ...(immutable === undefined ? {} : {immutable: immutable === 1n}),
    }
  }
  if (kind === 'ConfigMap') return {apiVersion: text(typeMeta, 1), kind, metadata, data: map(object, 2, true)}
  throw new Error(`this fake API server cannot read a protobuf ${kind ?? 'object'}`)
}
