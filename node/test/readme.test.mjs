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
const snippetOf = (heading) => /```js\n([\s\S]*?)```/.exec(readme.split(heading)[1] ?? '')?.[1]
const snippet = snippetOf('## Node quick start')
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

test('the bill payment runs and type-checks strictly', (t) => {
  const bill = snippetOf('## Paying a bill')
  assert.ok(bill && bill.includes('payBill'))
  const billDir = join(here, '.readme-bill')
  mkdirSync(billDir, { recursive: true })
  t.after(() => rmSync(billDir, { recursive: true, force: true }))
  writeFileSync(join(billDir, 'bill.mjs'), bill)
  const out = execFileSync(process.execPath, [join(billDir, 'bill.mjs')], { encoding: 'utf8', timeout: 60000 })
  assert.match(out.trim().split('\n').at(-1), /^SUCCESS \d{25} OP/)
  writeFileSync(join(billDir, 'bill.mts'), bill)
  const tsc = join(here, '..', 'node_modules', 'typescript', 'bin', 'tsc')
  execFileSync(process.execPath, [tsc, '--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--target', 'es2022', '--types', 'node', '--skipLibCheck', 'false', join(billDir, 'bill.mts')], { encoding: 'utf8', timeout: 120000 })
})
