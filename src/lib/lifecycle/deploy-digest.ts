import {createHash} from 'node:crypto'
import {readdir, readFile} from 'node:fs/promises'
import path from 'node:path'

/**
 * A digest of everything that decides what Helm would deploy: the chart's files, the values files in
 * order, the values set on the command line, the image tags and the Secret checksum. It is passed to
 * Helm as a value, so "the deployed release already has this" is one lookup, and a no-change `up`
 * creates no revision (helm #9304).
 */
export async function deployDigest(input: {
  chartDir: string
  valuesFiles: string[]
  setString: Record<string, string>
  set: string[]
}): Promise<string> {
  const hash = createHash('sha256')
  for (const file of await listFiles(input.chartDir)) {
    hash.update(`chart:${path.relative(input.chartDir, file)}\0`)
    hash.update(await readFile(file))
    hash.update('\0')
  }
  for (const file of input.valuesFiles) {
    hash.update(`values\0`)
    hash.update(await readFile(file))
    hash.update('\0')
  }
  for (const key of Object.keys(input.setString).sort())
    hash.update(`set-string:${key}=${input.setString[key]}\0`)
  for (const pair of input.set) hash.update(`set:${pair}\0`)
  return hash.digest('hex').slice(0, 32)
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, {withFileTypes: true, recursive: true})
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort()
}
