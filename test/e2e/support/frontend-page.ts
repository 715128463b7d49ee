const REQUEST_TIMEOUT_MS = 5000

/**
 * GETs the app URL until the body holds `marker` or `withinMs` passes, and returns the last body
 * (so the caller's assertion shows what was served). Retrying covers only the moment the Service's
 * endpoints take to follow pods that just became ready; a wrong version still fails after `withinMs`.
 */
export async function fetchPage(url: string, marker: string, withinMs = 20_000): Promise<string> {
  const deadline = Date.now() + withinMs
  let last = ''
  for (;;) {
    try {
      const response = await fetch(url, {signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS)})
      last = `HTTP ${response.status}\n${await response.text()}`
      if (response.ok && last.includes(marker)) return last
    } catch (error) {
      last = `GET ${url} failed: ${error instanceof Error ? error.message : String(error)}`
    }
    if (Date.now() > deadline) return last
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
}
