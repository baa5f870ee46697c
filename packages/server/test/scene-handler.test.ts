import { afterEach, describe, expect, it } from 'vitest'
import { DropReason, ErrorCode, type SceneHandler } from '@wsmp/server'
import { admitted, closeEverything, connectClient, hex, int32Hex, rawClient, startServer, toHex, waitFor } from './helpers.js'

/**
 * SceneMultiplayer commands other than RAW and SYS (RPC, path cache, replication) addressed to a
 * wsmp peer reach its scene handler inside poll(), with the sender; relayed between other peers
 * they pass verbatim; `sendCommand` sends them as Godot's `send_command` does.
 */

afterEach(closeEverything)

function recorder(): SceneHandler & { got: string[] } {
  const got: string[] = []
  return { got, onScenePacket: (from, packet) => got.push(`${from}: ${toHex(packet)}`) }
}

describe('the scene handler', () => {
  it('gets commands sent to the server directly and its share of a relayed broadcast, with the sender, in order with packets', async () => {
    const handler = recorder()
    const { server, url } = await startServer({ sceneHandler: handler })
    const raw = await rawClient(url)
    await waitFor(() => raw.messages.length >= 1, [server], 'the id')
    const id = raw.id()
    await admitted(server, [id])
    raw.send(hex('00 01 02 03')) // an RPC to the server
    raw.send(hex('01 61 62 00')) // SIMPLIFY_PATH
    raw.send(hex('07 03 00 00 00 00 50 09')) // a broadcast relay whose inner packet is an RPC with flags
    raw.send(hex('07 03 ff ff ff ff 02 01 05 00 00 00')) // to everyone but 1: not for the server
    raw.send(hex('03 6f 6b'))
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'the RAW packet after them')
    expect(handler.got).toEqual([`${id}: 00 01 02 03`, `${id}: 01 61 62 00`, `${id}: 50 09`])
    expect(server.getPeerStats(id)?.protocolErrors).toBe(0)
  })

  it('on a client: gets relayed commands stamped with their source; without a handler they are dropped and counted', async () => {
    const { server, url } = await startServer()
    const handler = recorder()
    const a = await connectClient(url, { sceneHandler: handler }, [server])
    const b = await connectClient(url, {}, [server])
    const sender = await rawClient(url)
    await waitFor(() => sender.messages.length >= 1, [server], 'the id')
    await admitted(server, [a.getUniqueId(), b.getUniqueId(), sender.id()])
    sender.send(hex('07 03 00 00 00 00 00 0a 0b')) // an RPC to everyone
    await waitFor(() => handler.got.length === 1, [server, a], 'the RPC at a')
    expect(handler.got).toEqual([`${sender.id()}: 00 0a 0b`])
    await waitFor(() => (b.getStats().dropped[DropReason.NOT_INTERPRETED] ?? 0) === 1, [server, b], 'b to drop it')
  })

  it('sendCommand: a server sends to one peer or everyone; a client wraps what is not for the server in a relay', async () => {
    const { server, url } = await startServer()
    const raw = await rawClient(url)
    await waitFor(() => raw.messages.length >= 1, [server], 'the id')
    const client = await connectClient(url, {}, [server])
    await admitted(server, [raw.id(), client.getUniqueId()])
    await waitFor(() => raw.messages.length >= 2, [server], 'the announcement of the client')
    expect(server.sendCommand(raw.id(), hex('02 01 07 00 00 00'))).toBe(ErrorCode.OK)
    expect(server.sendCommand(0, hex('00 aa'))).toBe(ErrorCode.OK)
    expect(server.sendCommand(1, hex('00 aa'))).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(client.sendCommand(raw.id(), hex('00 bb'))).toBe(ErrorCode.OK)
    expect(client.sendCommand(1, hex('01 cc'))).toBe(ErrorCode.OK)
    await waitFor(() => raw.messages.length >= 5, [server], 'the commands')
    expect(raw.messages.slice(2).map((m) => toHex(m.data))).toEqual(['02 01 07 00 00 00', '00 aa', `07 03 ${int32Hex(client.getUniqueId())} 00 bb`])
  })
})
