/** Docker reports sizes in decimal megabytes (`docker images`); targets (docs/data-model.md) use the same unit. */
const BYTES_PER_MB = 1_000_000

export function formatMegabytes(sizeBytes: number): string {
  return `${Math.round(sizeBytes / BYTES_PER_MB)} MB`
}

/** A warning when an image is over its size target, or undefined when it fits. */
export function imageSizeWarning(ref: string, sizeBytes: number, targetMB: number): string | undefined {
  if (sizeBytes <= targetMB * BYTES_PER_MB) return undefined
  return (
    `image ${ref} is ${formatMegabytes(sizeBytes)}, over its ${targetMB} MB target: ` +
    'keep build tools in a builder stage, use an alpine base and check .dockerignore'
  )
}

/** Bytes on the wire (a push, a context upload), for progress lines. */
export function formatTransferSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}
