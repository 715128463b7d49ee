const MAX_SHOWN = 60

/** What a user typed, cut short enough to quote in an error: a 1 MB value must not come back as a 1 MB message. */
export function inputExcerpt(value: string): string {
  return value.length <= MAX_SHOWN ? value : `${value.slice(0, MAX_SHOWN)}… (${value.length} characters)`
}
