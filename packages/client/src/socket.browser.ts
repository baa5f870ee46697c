import { CloseCode } from '@wsmp/core'
import type { ConnectOptions, SocketDriver, SocketHandler } from './socket.js'

/**
 * The browser's WebSocket (and that of any runtime without a `node` export condition: workers,
 * Deno, React Native). Browsers hide the TCP socket: no pings, no pausing, no drain event, no
 * remote address, no headers of one's own and no TLS trust of one's own; a message over the
 * inbound limit is detected here and closed with {@link CloseCode.MESSAGE_TOO_BIG_BROWSER}, as a
 * page may not send 1009.
 */

const utf8 = new TextEncoder()

/** @internal The driver of the browser's WebSocket. */
export const socketDriver: SocketDriver<WebSocket> = {
  connect(url: string, options: ConnectOptions, handler: SocketHandler): WebSocket {
    if (options.headers.length > 0) handler._warnOnce('handshakeHeaders are ignored: browsers cannot send them (pass a token in the URL or a subprotocol)')
    const tls = options.tls
    if (tls && (tls.isUnsafeClient() || tls.getTrustedCaChain() !== null || tls.getCommonNameOverride() !== '')) {
      handler._warnOnce('TLS client options are ignored: browsers use their own trust store')
    }
    // Looked up when used, so that a page may load wsmp before a WebSocket polyfill.
    const socket = new globalThis.WebSocket(url, options.protocols)
    socket.binaryType = 'arraybuffer'
    const maxPayload = options.maxPayload
    socket.onopen = () => handler._opened()
    socket.onmessage = (event: MessageEvent) => {
      const data = event.data as unknown
      const bytes = typeof data === 'string' ? utf8.encode(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : null
      if (bytes === null) return
      if (bytes.length > maxPayload) handler._tooBig(bytes.length, CloseCode.MESSAGE_TOO_BIG_BROWSER)
      else handler._message(bytes, typeof data === 'string')
    }
    socket.onclose = (event: CloseEvent) => handler._closed(event.wasClean ? event.code : -1, event.reason)
    socket.onerror = () => handler._error('WebSocket error (browsers give no detail)')
    return socket
  },
  send(socket: WebSocket, data: Uint8Array | string): void {
    socket.send(data)
  },
  hasRoom(socket: WebSocket, size: number, limit: number): boolean {
    return socket.bufferedAmount + size <= limit
  },
  bufferedAmount(socket: WebSocket): number {
    return socket.bufferedAmount
  },
  protocol(socket: WebSocket): string {
    return socket.protocol
  },
  close(socket: WebSocket, code: number, reason: string): void {
    socket.close(code, reason)
  },
  terminate(socket: WebSocket): void {
    socket.close()
  },
  isValidCloseCode(code: number): boolean {
    return code === 1000 || (code >= 3000 && code <= 4999)
  },
}
