// The README's Node quick start runs as written (as ESM, importing 'aopay'
// by name) and passes tsc --strict as a .mts file.
import test from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const readme = readFileSync(join(here, '..', '..', 'README.md'), 'utf8')
const section = readme.split('## Node quick start')[1]
const snippet = /```js\n([\s\S]*?)```/.exec(section)?.[1]
// Inside the package, so that `import 'aopay'` resolves to it by name.
const dir = join(here, '.readme')

test('the README has a Node quick start', () => {
  assert.ok(snippet && snippet.includes("from 'aopay'"))
})

test('the quick start runs and type-checks strictly', (t) => {
  mkdirSync(dir, { recursive: true })
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'quickstart.mjs'), snippet)
  const out = execFileSync(process.execPath, [join(dir, 'quickstart.mjs')], { encoding: 'utf8', timeout: 60000 })
  assert.match(out, /^SUCCESS /)
  writeFileSync(join(dir, 'quickstart.mts'), snippet)
  const tsc = join(here, '..', 'node_modules', 'typescript', 'bin', 'tsc')
  execFileSync(process.execPath, [tsc, '--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--target', 'es2022', '--types', 'node', '--skipLibCheck', 'false', join(dir, 'quickstart.mts')], { encoding: 'utf8', timeout: 120000 })
})
