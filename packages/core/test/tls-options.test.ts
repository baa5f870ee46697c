import { describe, expect, it } from 'vitest'
import { TLSOptions } from '@wsmp/core'

describe('TLSOptions', () => {
  it('client() verifies, with the system trust store by default', () => {
    const options = TLSOptions.client()
    expect(options.isServer()).toBe(false)
    expect(options.isUnsafeClient()).toBe(false)
    expect(options.getTrustedCaChain()).toBeNull()
    expect(options.getCommonNameOverride()).toBe('')
    expect(options.getPrivateKey()).toBeNull()
    expect(options.getOwnCertificate()).toBeNull()
  })

  it('client(chain, name) keeps the trusted chain and the common name override', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'
    const options = TLSOptions.client(pem, 'game.example')
    expect(options.getTrustedCaChain()).toBe(pem)
    expect(options.getCommonNameOverride()).toBe('game.example')
    expect(options.isUnsafeClient()).toBe(false)
    const bytes = new TextEncoder().encode(pem)
    expect(TLSOptions.client(bytes).getTrustedCaChain()).toBe(bytes)
  })

  it('clientUnsafe() skips verification', () => {
    const options = TLSOptions.clientUnsafe()
    expect(options.isServer()).toBe(false)
    expect(options.isUnsafeClient()).toBe(true)
    expect(options.getTrustedCaChain()).toBeNull()
    expect(TLSOptions.clientUnsafe('chain').getTrustedCaChain()).toBe('chain')
  })

  it('server(key, certificate) holds the key and certificate', () => {
    const options = TLSOptions.server('KEY', 'CERT')
    expect(options.isServer()).toBe(true)
    expect(options.isUnsafeClient()).toBe(false)
    expect(options.getPrivateKey()).toBe('KEY')
    expect(options.getOwnCertificate()).toBe('CERT')
    expect(options.getTrustedCaChain()).toBeNull()
  })
})
