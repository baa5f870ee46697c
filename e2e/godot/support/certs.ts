// Test certificates for the TLS scenarios, made with the openssl CLI at test time in a temporary
// directory (the engine loads them from files): a CA, a server certificate it signed for
// 127.0.0.1 and localhost, and an unrelated self-signed one.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface CertFiles {
  dir: string
  /** The CA certificate: path and PEM. */
  caPath: string
  ca: string
  /** The server's key and certificate (signed by the CA, SAN IP:127.0.0.1, DNS:localhost). */
  keyPath: string
  certPath: string
  key: string
  cert: string
}

let made: CertFiles | null = null

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Makes the certificates once per test file's process; removed when it exits. */
export function certFiles(): CertFiles {
  if (made) return made
  const dir = mkdtempSync(join(tmpdir(), 'wsmp-godot-certs-'))
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  openssl(dir, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-sha256',
    '-subj',
    '/CN=wsmp godot-live test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ])
  openssl(dir, ['req', '-new', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'])
  writeFileSync(
    join(dir, 'server.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
  )
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-sha256',
    '-extfile',
    'server.ext',
    '-out',
    'server.crt',
  ])
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8')
  made = {
    dir,
    caPath: join(dir, 'ca.crt'),
    ca: read('ca.crt'),
    keyPath: join(dir, 'server.key'),
    certPath: join(dir, 'server.crt'),
    key: read('server.key'),
    cert: read('server.crt'),
  }
  return made
}
