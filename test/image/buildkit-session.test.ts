import {EventEmitter} from 'node:events'

import type * as grpc from '@grpc/grpc-js'
import {describe, expect, it} from 'vitest'

import {sendPacket} from '../../src/lib/image/buildkit-session.js'
import {PacketType, type Packet} from '../../src/lib/image/context-sync.js'

/** A gRPC call whose send buffer is full: `write` says to wait for 'drain'. */
function fullCall(): grpc.ServerDuplexStream<Packet, Packet> & EventEmitter {
  return Object.assign(new EventEmitter(), {destroyed: false, cancelled: false, write: () => false}) as never
}

describe('sendPacket', () => {
  const packet: Packet = {type: PacketType.Data, id: 3, data: Buffer.from('x')}

  it('waits for the call to drain before the next packet', async () => {
    const call = fullCall()
    let sent = false
    const sending = sendPacket(call, packet).then(() => (sent = true))
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(sent).toBe(false)
    call.emit('drain')
    await sending
    expect(sent).toBe(true)
    expect(call.listenerCount('close')).toBe(0)
  })

  it('gives up when the daemon closes the call meanwhile (a stopped build), instead of waiting forever', async () => {
    const call = fullCall()
    const sending = sendPacket(call, packet)
    call.emit('close')
    await expect(sending).rejects.toThrow('the build stopped reading its context')
    expect(call.listenerCount('drain')).toBe(0)
    await expect(sendPacket(Object.assign(fullCall(), {cancelled: true}), packet)).rejects.toThrow(
      'the build stopped reading its context',
    )
  })
})
