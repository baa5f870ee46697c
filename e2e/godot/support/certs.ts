// Test certificates for the TLS scenarios: the ones the server's own TLS tests make with the
// openssl CLI at test time (a CA, a server certificate it signed for 127.0.0.1 and localhost),
// with the paths of their files, which the engine loads.
import { join } from 'node:path'
import { testCertificates } from '../../../packages/server/test/certs.js'

export interface CertFiles {
  /** The CA certificate: path and PEM. */
  caPath: string
  ca: string
  /** The server's key and certificate (signed by the CA, SAN IP:127.0.0.1, DNS:localhost). */
  keyPath: string
  certPath: string
  key: string
  cert: string
}

/** Made once per test file's process; removed when it exits. */
export function certFiles(): CertFiles {
  const { dir, ca, server } = testCertificates()
  return { caPath: join(dir, 'ca.pem'), ca, keyPath: join(dir, 'server.key'), certPath: join(dir, 'server.pem'), key: server.key, cert: server.cert }
}
