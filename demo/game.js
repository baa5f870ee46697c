// The demo's page: one wsmp client, polled like a Godot game polls its peer, drawing the state
// the server broadcasts and sending this player's input.
'use strict'
;(() => {
  const { WebSocketMultiplayerPeer, ErrorCode, TransferMode, TARGET_PEER_SERVER } = WSMP

  const canvas = document.getElementById('world')
  const ctx = canvas.getContext('2d')
  const $ = (id) => document.getElementById(id)

  /** The page's view of the game; `window.demo` lets the browser tests read it. */
  const game = {
    me: 0,
    world: { width: canvas.width, height: canvas.height },
    radius: 18,
    tick: 0,
    /** id → { x, y } as last sent by the server, and { rx, ry } as drawn (eased toward it). */
    players: new Map(),
    /** id → player number (1, 2, …), given by the server: what the page shows instead of peer ids. */
    numbers: new Map(),
    peers: new Set(),
    packetsIn: 0,
    packetsOut: 0,
    snapshot() {
      return {
        me: this.me,
        tick: this.tick,
        peers: [...this.peers],
        players: Object.fromEntries([...this.players].map(([id, p]) => [id, [p.x, p.y]])),
        names: Object.fromEntries([...this.numbers.keys()].map((id) => [id, name(id)])),
      }
    },
  }
  window.demo = game

  // Each player number has a colour with a name, so a player is "Player 3 (Teal)", not a peer id.
  const palette = [
    ['Red', 0],
    ['Orange', 28],
    ['Yellow', 50],
    ['Green', 125],
    ['Teal', 172],
    ['Blue', 212],
    ['Purple', 268],
    ['Pink', 318],
  ]
  const swatch = (id) => palette[((game.numbers.get(id) ?? 1) - 1) % palette.length]
  const color = (id, light = 62) => (game.numbers.has(id) ? `hsl(${swatch(id)[1]} 80% ${light}%)` : `hsl(220 10% ${light}%)`)
  /** "Player 3", or "Player …" until the server said which; the server is "Server". */
  const name = (id) => (id === 1 ? 'Server' : `Player ${game.numbers.get(id) ?? '…'}`)
  const colorName = (id) => (game.numbers.has(id) ? swatch(id)[0] : '')

  function renderMe() {
    if (!game.me) return
    $('me').textContent = name(game.me)
    $('me').dataset.id = String(game.me)
    $('me-detail').textContent = `${colorName(game.me)}${colorName(game.me) ? ' · ' : ''}peer id ${game.me}`
    $('my-dot').style.background = color(game.me)
  }

  const peer = new WebSocketMultiplayerPeer()
  const status = (text, kind = '') => {
    $('status').textContent = text
    $('status').className = kind
  }
  peer.on('connected_to_server', () => {
    game.me = peer.getUniqueId()
    renderMe()
    status('connected', 'ok')
  })
  peer.on('connection_failed', (reason) => status(`connection failed: ${reason}`, 'bad'))
  peer.on('server_disconnected', (reason) => {
    status(`server gone: ${reason}`, 'bad')
    game.players.clear()
  })
  peer.on('peer_connected', (id) => {
    game.peers.add(id)
    renderPeers()
  })
  peer.on('peer_disconnected', (id) => {
    game.peers.delete(id)
    game.players.delete(id)
    game.numbers.delete(id)
    renderPeers()
  })
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`
  if (peer.createClient(url) !== ErrorCode.OK) status(peer.getLastError(), 'bad')

  function renderPeers() {
    const list = $('peers')
    list.replaceChildren()
    for (const id of [...game.peers].sort((a, b) => a - b)) {
      const li = document.createElement('li')
      const dot = document.createElement('span')
      dot.className = 'dot'
      dot.style.background = id === 1 ? '#9aa6bf' : color(id)
      li.dataset.id = String(id)
      li.title = `peer id ${id}`
      const label = document.createElement('span')
      label.textContent = name(id)
      const tag = document.createElement('span')
      tag.className = 'tag'
      tag.textContent = id === 1 ? 'peer 1' : colorName(id)
      li.append(dot, label, tag)
      list.append(li)
    }
  }

  function send(value) {
    if (peer.getConnectionStatus() !== WSMP.ConnectionStatus.CONNECTED) return
    peer.setTargetPeer(TARGET_PEER_SERVER)
    peer.transferMode = TransferMode.RELIABLE
    if (peer.putVar(value) === ErrorCode.OK) game.packetsOut++
  }

  // Input: keys give a direction, a click a target.
  const keys = new Set()
  const dirs = { ArrowLeft: [-1, 0], KeyA: [-1, 0], ArrowRight: [1, 0], KeyD: [1, 0], ArrowUp: [0, -1], KeyW: [0, -1], ArrowDown: [0, 1], KeyS: [0, 1] }
  let sent = '0,0'
  function sendDirection() {
    let dx = 0
    let dy = 0
    for (const code of keys) {
      dx += dirs[code][0]
      dy += dirs[code][1]
    }
    dx = Math.sign(dx)
    dy = Math.sign(dy)
    if (`${dx},${dy}` === sent) return
    sent = `${dx},${dy}`
    send({ dx, dy })
  }
  addEventListener('keydown', (e) => {
    if (!dirs[e.code]) return
    e.preventDefault()
    keys.add(e.code)
    sendDirection()
  })
  addEventListener('keyup', (e) => {
    if (!keys.delete(e.code)) return
    sendDirection()
  })
  addEventListener('blur', () => {
    keys.clear()
    sendDirection()
  })
  canvas.addEventListener('pointerdown', (e) => {
    const box = canvas.getBoundingClientRect()
    send({ tx: ((e.clientX - box.left) / box.width) * game.world.width, ty: ((e.clientY - box.top) / box.height) * game.world.height })
  })

  // The network loop: poll, read every packet. A timer, not the frame callback, so that a tab in
  // the background (where frames stop) keeps reading.
  setInterval(() => {
    peer.poll()
    while (peer.getAvailablePacketCount() > 0) {
      const msg = peer.getVar()
      if (peer.getPacketError() !== ErrorCode.OK || msg === null || typeof msg !== 'object') continue
      game.packetsIn++
      if (msg.welcome) {
        game.numbers.set(game.me, msg.number)
        renderMe()
        game.world = msg.world
        game.radius = msg.radius
        canvas.width = msg.world.width
        canvas.height = msg.world.height
      } else if (Array.isArray(msg.players)) {
        game.tick = msg.tick
        const seen = new Set()
        let renamed = false
        for (const [id, x, y, number] of msg.players) {
          seen.add(id)
          if (number !== undefined && game.numbers.get(id) !== number) {
            game.numbers.set(id, number)
            renamed = true
          }
          const p = game.players.get(id)
          if (p) Object.assign(p, { x, y })
          else game.players.set(id, { x, y, rx: x, ry: y })
        }
        for (const id of game.players.keys()) if (!seen.has(id)) game.players.delete(id)
        if (renamed) {
          renderMe()
          renderPeers()
        }
      }
    }
  }, 10)

  setInterval(() => {
    $('in-rate').textContent = game.packetsIn
    $('out-rate').textContent = game.packetsOut
    $('tick').textContent = game.tick
    game.packetsIn = 0
    game.packetsOut = 0
  }, 1000)

  // Drawing.
  let last = performance.now()
  function draw(now) {
    const dt = Math.min(0.1, (now - last) / 1000)
    last = now
    const { width, height } = canvas
    ctx.fillStyle = '#0d1322'
    ctx.fillRect(0, 0, width, height)
    ctx.strokeStyle = 'rgba(120, 150, 210, 0.08)'
    ctx.lineWidth = 1
    ctx.beginPath()
    for (let x = 40; x < width; x += 40) {
      ctx.moveTo(x + 0.5, 0)
      ctx.lineTo(x + 0.5, height)
    }
    for (let y = 40; y < height; y += 40) {
      ctx.moveTo(0, y + 0.5)
      ctx.lineTo(width, y + 0.5)
    }
    ctx.stroke()
    const ease = Math.min(1, dt * 14)
    const r = game.radius
    for (const [id, p] of [...game.players].sort(([a], [b]) => (a === game.me) - (b === game.me))) {
      p.rx += (p.x - p.rx) * ease
      p.ry += (p.y - p.ry) * ease
      ctx.save()
      ctx.shadowColor = color(id, 55)
      ctx.shadowBlur = 22
      const fill = ctx.createRadialGradient(p.rx - r / 3, p.ry - r / 3, r / 5, p.rx, p.ry, r)
      fill.addColorStop(0, color(id, 78))
      fill.addColorStop(1, color(id, 50))
      ctx.fillStyle = fill
      ctx.beginPath()
      ctx.arc(p.rx, p.ry, r, 0, Math.PI * 2)
      ctx.fill()
      ctx.restore()
      if (id === game.me) {
        ctx.strokeStyle = 'rgba(255,255,255,0.9)'
        ctx.lineWidth = 3
        ctx.beginPath()
        ctx.arc(p.rx, p.ry, r + 5, 0, Math.PI * 2)
        ctx.stroke()
      }
      ctx.font = '600 13px system-ui, sans-serif'
      ctx.textAlign = 'center'
      ctx.fillStyle = '#e8eefc'
      const label = id === game.me ? `${name(id)} (you)` : name(id)
      const half = ctx.measureText(label).width / 2 + 4
      // Kept inside the canvas, below the player when it is at the top edge.
      const lx = Math.min(width - half, Math.max(half, p.rx))
      const ly = p.ry - r - 10 < 14 ? p.ry + r + 20 : p.ry - r - 10
      ctx.fillText(label, lx, ly)
    }
    if (game.players.size === 0) {
      ctx.fillStyle = '#7f8aa3'
      ctx.font = '16px system-ui, sans-serif'
      ctx.textAlign = 'center'
      ctx.fillText(peer.getConnectionStatus() === WSMP.ConnectionStatus.CONNECTED ? 'waiting for the first state…' : 'not connected', width / 2, height / 2)
    }
    requestAnimationFrame(draw)
  }
  requestAnimationFrame(draw)
})()
