import type {Readable} from 'node:stream'
import {StringDecoder} from 'node:string_decoder'

/**
 * Calls `onLine` for each non-empty line of an engine response (the JSON-lines progress of a build
 * or a push), decoding UTF-8 across chunk boundaries; resolves when the stream ends.
 */
export async function forEachLine(stream: Readable, onLine: (line: string) => void): Promise<void> {
  const decoder = new StringDecoder('utf8')
  let pending = ''
  const emit = (line: string): void => {
    if (line.trim() !== '') onLine(line)
  }
  for await (const chunk of stream) {
    pending += decoder.write(chunk as Buffer)
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    lines.forEach(emit)
  }
  emit(pending + decoder.end())
}
