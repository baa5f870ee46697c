// A load generator process. Receives one job over IPC and answers commands:
//   ← { id, cmd: 'fanout', impl, port, clients, size, rate }   → { id } once every client is ready
//   ← { id, cmd: 'latency', targets: [{ impl, port, sourcePort?, name? }], size, rate, seconds, warmup, send } → { id, [name ?? impl]: stats } when done
//   ← { id, cmd: 'idle', impl, port, count, concurrency }      → { id, ready } once all are ready
//   ← { id, cmd: 'start' }   start sending (fan-out)
//   ← { id, cmd: 'mark' }    → { id, received, sent, throttled, closed, cpu, t }
//   ← { id, cmd: 'progress' } → { id, received } answers received so far by the running latency job
//   ← { id, cmd: 'stop' }    stop sending, close every socket → { id }
// Every loop is bounded in count and time; the process exits when the parent goes away.
import { openRawWebSocket } from './common/rawws.mjs'
import { protocols } from './common/protocols.mjs'

const HOST = '127.0.0.1'
/** Hard cap on this process's life: the orchestrator never needs longer (a probe under valgrind may ask for up to 10 minutes). */
const MAX_JOB_MS = Math.min(600_000, Number(process.env.BENCH_MAX_JOB_MS) || 120_000)
/** Don't queue more than this in a socket's user-space buffer: skip sends (counted) instead. */
const MAX_BACKLOG = 256 * 1024
/** At most this many messages per client per tick, so a stalled timer cannot burst unboundedly. */
const MAX_BURST = 64

let clients = []
let sender = null
const guard = setTimeout(() => process.exit(2), MAX_JOB_MS)
guard.unref()

function waitUntil(condition, what, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs
    const check = () => {
      if (condition()) return resolve()
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`))
      setTimeout(check, 2)
    }
    check()
  })
}

async function connect(impl, port, extra = {}) {
  const protocol = protocols[impl]
  return openRawWebSocket({ host: HOST, port, path: protocol.path, onFrame: protocol.onFrame, ...extra })
}

/** Opens `count` clients, `concurrency` at a time, each ready (id received / namespace joined). */
async function connectMany(impl, port, count, concurrency, extra) {
  const out = []
  let next = 0
  const worker = async () => {
    while (next < count) {
      next++
      const client = await connect(impl, port, extra)
      await waitUntil(() => client.ready || client.closed, 'the handshake')
      if (!client.ready) throw new Error('closed during the handshake')
      out.push(client)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return out
}

// ---- fan-out ----------------------------------------------------------------------------------

const fan = { sent: 0, throttled: 0, size: 0, rate: 0, frame: null, burst: null, receivers: 0, window: 0 }

async function fanout({ impl, port, clients: count, size, rate, receivers, window }) {
  const protocol = protocols[impl]
  const payload = Buffer.alloc(size, 0x5a)
  const frame = protocol.frames(payload, 0)
  fan.frame = frame
  fan.burst = Buffer.concat(Array.from({ length: MAX_BURST }, () => frame))
  fan.size = size
  fan.rate = rate
  fan.receivers = receivers
  fan.window = window
  // A delivered packet is a binary frame of the payload plus the protocol's header bytes.
  clients = await connectMany(impl, port, count, 10, { countSize: size + protocol.deliveredOffset })
}

function received() {
  let n = 0
  for (const client of clients) n += client.counted
  return n
}

/**
 * Sends at `rate` messages/s per client, within a window: deliveries still owed for what this
 * process sent (sent × receivers − received, which holds because every load process sends at the
 * same rate) stay under `window`. So a saturated server always has work queued, but never seconds
 * of backlog in socket buffers; what the window holds back is counted as throttled.
 */
function startSending() {
  const t0 = performance.now()
  const perClient = new Array(clients.length).fill(0)
  sender = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) * fan.rate) / 1000)
    let owed = fan.sent * fan.receivers - received()
    for (let i = 0; i < clients.length; i++) {
      const client = clients[i]
      let n = due - perClient[i]
      if (n <= 0 || client.closed) continue
      if (owed > fan.window) {
        fan.throttled += n
        perClient[i] += n
        continue
      }
      if (n > MAX_BURST) {
        fan.throttled += n - MAX_BURST
        n = MAX_BURST
      }
      if (client.socket.writableLength > MAX_BACKLOG) {
        fan.throttled += n
        perClient[i] += n
        continue
      }
      client.send(n === 1 ? fan.frame : fan.burst.subarray(0, n * fan.frame.length))
      perClient[i] += n
      fan.sent += n
      owed += n * fan.receivers
    }
  }, 1)
}

function mark() {
  let received = 0
  let closed = 0
  for (const client of clients) {
    received += client.counted
    if (client.closed) closed++
  }
  return { received, sent: fan.sent, throttled: fan.throttled, closed, cpu: process.cpuUsage(), t: performance.now() }
}

// ---- latency ----------------------------------------------------------------------------------

/**
 * Relay latency of several servers at once: for each target a receiver and a source client, one
 * message per target per millisecond (`rate` 1000), one-way latency, both ends here.
 *
 * `send: 'chained'` (default): each tick sends one due message to the first target of that tick's
 * order (every permutation of the targets in turn) and the next target's message leaves only when
 * the previous one has been received (or after `CHAIN_WAIT_MS`), and so on while any target is
 * behind schedule. So a
 * server's answer is never timed after this process handled another server's answer, and the
 * servers never compete for the 2 cores with each other, while all of them are measured within the
 * same millisecond (a stall of the machine hits them alike).
 *
 * `send: 'burst'` (the bench's original order): each tick sends every due message to every
 * target back to back, in a rotating order; the servers then answer at once and this process
 * handles the answers in arrival order, so a later answer's time includes handling the earlier
 * ones (`interleaved` counts such samples).
 */
const CHAIN_WAIT_MS = 20
/** Answers received by the running latency job so far (read by the probe, bench/probe.mjs). */
let latencyReceived = () => 0

async function latency({ targets, size, rate, seconds, warmup, send = 'chained' }) {
  const total = Math.round(rate * seconds)
  const skip = Math.round(rate * warmup)
  const runs = []
  /** Answers handled so far, over all targets (to tell whether others were handled in between). */
  let handled = 0
  let chain = null
  const payload = Buffer.alloc(size, 0x5a)
  const sendOne = (run) => {
    const seq = run.seq++
    payload.writeUInt32LE(seq, 0)
    // The frame is built before the clock is read: building it is this process's work, and it
    // differs by protocol (wsmp's wraps the payload in a relay header: two allocations and copies).
    const frame = run.protocol.frames(payload, run.target)
    run.othersAtSend[seq] = handled - run.received
    run.sentAt[seq] = performance.now()
    run.source.send(frame)
    return seq
  }
  let t0 = 0
  let turn = 0
  const dueNow = () => Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1)
  /**
   * Chained: sends the next behind-schedule target's message, in this tick's rotation; ends the
   * chain when none is behind. Always run from setImmediate, never from the timer or from the
   * previous answer's handler: on 2 cores the woken server usually waits for this process to block
   * (the scheduler wakes it on this CPU), so whatever this process does after a send counts in
   * that send's latency, and it must be the same for every target (not the rest of handling the
   * previous target's answer, which differs by protocol).
   */
  const advance = () => {
    if (chain === null) return
    const due = dueNow()
    const order = chain.order
    for (let k = 0; k < order.length; k++) {
      const run = runs[order[(chain.next + k) % order.length]]
      if (run.seq < due) {
        chain.next = (chain.next + k + 1) % order.length
        chain.run = run
        chain.seq = sendOne(run)
        chain.at = performance.now()
        return
      }
    }
    chain = null
  }
  /**
   * The chain's orders: every permutation of the targets, one per millisecond in turn, so each
   * target goes first, last, and right after each other target equally often (a server that
   * follows a slow one may find it still finishing its work on the CPU it needs; rotating one fixed
   * cycle would always put the same server behind socket.io).
   */
  const permutations = (items) =>
    items.length <= 1 ? [items] : items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]))
  let orders = []
  // A target may name its result (default: its impl) and put the source on another port (a
  // cluster's other edge: bench/cluster.mjs).
  for (const { impl, port, sourcePort = port, name = impl } of targets) {
    const [receiver] = await connectMany(impl, port, 1, 1)
    const [source] = await connectMany(impl, sourcePort, 1, 1)
    clients.push(receiver, source)
    const run = {
      impl,
      name,
      protocol: protocols[impl],
      receiver,
      source,
      target: impl === 'wsmp' ? receiver.id : 0,
      sentAt: new Float64Array(total),
      samples: [],
      received: 0,
      othersAtSend: new Uint32Array(total),
      interleaved: 0,
      seq: 0,
    }
    receiver.onPayload = (data, start, end) => {
      if (end - start < 4) return
      const now = performance.now()
      const seq = data.readUInt32LE(start)
      if (seq >= total) return
      if (seq >= skip) {
        run.samples.push(now - run.sentAt[seq])
        if (handled - run.received > run.othersAtSend[seq]) run.interleaved++
      }
      run.received++
      handled++
      if (chain !== null && chain.run === run && chain.seq === seq) setImmediate(advance)
    }
    runs.push(run)
  }
  orders = permutations(runs.map((_, i) => i))
  latencyReceived = () => runs.reduce((n, run) => n + run.received, 0)
  // Let every server finish admitting both clients (wsmp announces them to each other).
  await new Promise((resolve) => setTimeout(resolve, 200))
  t0 = performance.now()
  let chainTimeouts = 0
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      turn++
      if (send === 'burst') {
        const due = dueNow()
        for (let k = 0; k < runs.length; k++) {
          const run = runs[(k + turn) % runs.length]
          while (run.seq < due) sendOne(run)
        }
      } else if (chain === null) {
        chain = { order: orders[turn % orders.length], next: 0, run: null, seq: -1, at: 0 }
        setImmediate(advance)
      } else if (performance.now() - chain.at > CHAIN_WAIT_MS && chain.run !== null) {
        chainTimeouts++
        chain.run = null
        setImmediate(advance)
      }
      if (runs.every((run) => run.seq >= total)) {
        clearInterval(timer)
        resolve()
      }
    }, 1)
  })
  await waitUntil(() => runs.every((run) => run.received >= total), 'the last latency samples', 5000).catch(() => {})
  // This job's connections end with it (a later job on this process starts from none).
  for (const run of runs) {
    run.receiver.close()
    run.source.close()
  }
  clients = clients.filter((client) => !client.closed && !runs.some((run) => run.receiver === client || run.source === client))
  const out = {}
  for (const run of runs) {
    const samples = run.samples.sort((a, b) => a - b)
    const pick = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN
    out[run.name] = {
      count: samples.length,
      lost: total - run.received,
      p50: pick(0.5),
      p90: pick(0.9),
      p99: pick(0.99),
      max: samples[samples.length - 1] ?? NaN,
      interleaved: run.interleaved / Math.max(1, samples.length),
      chainTimeouts,
      send,
    }
  }
  return out
}

// ---- commands ---------------------------------------------------------------------------------

process.on('message', async (msg) => {
  const reply = (body = {}) => process.send({ id: msg.id, ...body })
  try {
    switch (msg.cmd) {
      case 'fanout':
        await fanout(msg)
        reply({ clients: clients.length })
        break
      case 'latency':
        reply(await latency(msg))
        break
      case 'idle':
        clients.push(...(await connectMany(msg.impl, msg.port, msg.count, msg.concurrency)))
        reply({ ready: clients.length })
        break
      case 'start':
        startSending()
        reply()
        break
      case 'mark':
        reply(mark())
        break
      case 'progress':
        reply({ received: latencyReceived() })
        break
      case 'stop':
        if (sender) clearInterval(sender)
        sender = null
        for (const client of clients) client.close()
        reply()
        break
    }
  } catch (err) {
    reply({ error: String(err?.stack ?? err) })
  }
})
process.on('disconnect', () => process.exit(0))
process.send({ type: 'ready' })
