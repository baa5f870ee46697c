import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** PEM key and certificate of one server identity. */
export interface Identity {
  key: string
  cert: string
}

/** The certificates the TLS tests use, all made by the openssl CLI at test time. */
export interface TestCertificates {
  /** The directory they were written to (removed when the process exits). */
  dir: string
  /** A test CA's certificate: the trusted chain for `TLSOptions.client(ca)`. */
  ca: string
  /** Signed by the CA, valid for 127.0.0.1 and localhost. */
  server: Identity
  /** Valid for 127.0.0.1 and localhost but signed by nobody anyone trusts. */
  selfSigned: Identity
  /** Signed by the CA, but only for `other.example`. */
  wrongName: Identity
}

const OPENSSL = '/usr/bin/openssl'
let made: TestCertificates | null = null

function openssl(dir: string, args: string[]): void {
  execFileSync(OPENSSL, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

/** A key and certificate for `san`, signed by the CA in `dir`. */
function signed(dir: string, name: string, cn: string, san: string): Identity {
  openssl(dir, ['req', '-new', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`])
  writeFileSync(join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`)
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-sha256',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  ])
  return { key: readFileSync(join(dir, `${name}.key`), 'utf8'), cert: readFileSync(join(dir, `${name}.pem`), 'utf8') }
}

/**
 * Makes (once per test process) a CA, a server certificate for 127.0.0.1/localhost signed by it,
 * a self-signed one, and a CA-signed one for the wrong name, in a fresh temporary directory.
 */
export function testCertificates(): TestCertificates {
  if (made) return made
  const dir = mkdtempSync(join(tmpdir(), 'wsmp-certs-'))
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  openssl(dir, [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-sha256',
    '-subj',
    '/CN=wsmp test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ])
  const server = signed(dir, 'server', '127.0.0.1', 'IP:127.0.0.1,DNS:localhost')
  const wrongName = signed(dir, 'wrong', 'other.example', 'DNS:other.example')
  openssl(dir, [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    'self.key',
    '-out',
    'self.pem',
    '-days',
    '2',
    '-sha256',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ])
  const selfSigned = { key: readFileSync(join(dir, 'self.key'), 'utf8'), cert: readFileSync(join(dir, 'self.pem'), 'utf8') }
  made = { dir, ca: readFileSync(join(dir, 'ca.pem'), 'utf8'), server, selfSigned, wrongName }
  return made
}
