/** PEM text, as a string or as its bytes. */
export type Pem = string | Uint8Array

/**
 * TLS configuration for `createClient`/`connectToUrl` (client options) and `createServer` (server
 * options): a plain value object, no I/O. Build one with the static factories.
 *
 * Godot: `TLSOptions`. In browsers the browser's own trust store always decides, so client options
 * are ignored there.
 */
export class TLSOptions {
  // Set by the constructor alone (`declare`: no class-field declarations to emit).
  private declare readonly _server: boolean
  private declare readonly _unsafeClient: boolean
  private declare readonly _trustedCaChain: Pem | null
  private declare readonly _commonNameOverride: string
  private declare readonly _privateKey: Pem | null
  private declare readonly _ownCertificate: Pem | null

  private constructor(server: boolean, unsafeClient: boolean, trustedCaChain: Pem | null, commonNameOverride: string, privateKey: Pem | null, ownCertificate: Pem | null) {
    this._server = server
    this._unsafeClient = unsafeClient
    this._trustedCaChain = trustedCaChain
    this._commonNameOverride = commonNameOverride
    this._privateKey = privateKey
    this._ownCertificate = ownCertificate
  }

  /**
   * Client options that verify the server: against `trustedChain` (PEM) when given, else the
   * system's trust store; the certificate must match `commonNameOverride` when given, else the host.
   *
   * Godot: `TLSOptions.client(trusted_chain, common_name_override)`.
   */
  static client(trustedChain: Pem | null = null, commonNameOverride = ''): TLSOptions {
    return new TLSOptions(false, false, trustedChain, commonNameOverride, null, null)
  }

  /**
   * Client options that do not verify the server at all. For tests only: anyone on the path can
   * read and change the traffic.
   *
   * Godot: `TLSOptions.client_unsafe(trusted_chain)`.
   */
  static clientUnsafe(trustedChain: Pem | null = null): TLSOptions {
    return new TLSOptions(false, true, trustedChain, '', null, null)
  }

  /**
   * Server options: the private key and the certificate chain (PEM).
   *
   * Godot: `TLSOptions.server(key, certificate)`.
   */
  static server(key: Pem, certificate: Pem): TLSOptions {
    return new TLSOptions(true, false, null, '', key, certificate)
  }

  /** Whether these are server options. Godot: `TLSOptions.is_server()`. */
  isServer(): boolean {
    return this._server
  }

  /** Whether these are client options that skip verification. Godot: `TLSOptions.is_unsafe_client()`. */
  isUnsafeClient(): boolean {
    return this._unsafeClient
  }

  /** The name the server certificate must match instead of the host. Godot: `get_common_name_override()`. */
  getCommonNameOverride(): string {
    return this._commonNameOverride
  }

  /** The trusted CA chain (PEM), or null for the system's. Godot: `get_trusted_ca_chain()`. */
  getTrustedCaChain(): Pem | null {
    return this._trustedCaChain
  }

  /** The server's private key (PEM). Godot: `get_private_key()`. */
  getPrivateKey(): Pem | null {
    return this._privateKey
  }

  /** The server's certificate chain (PEM). Godot: `get_own_certificate()`. */
  getOwnCertificate(): Pem | null {
    return this._ownCertificate
  }
}
