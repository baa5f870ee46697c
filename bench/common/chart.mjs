// A hand-made SVG bar chart of the bench results: one group per metric, one bar per
// implementation, each bar's length relative to the largest value of its metric.
const COLORS = { wsmp: '#2f7ed8', ws: '#8c8c8c', 'socket.io': '#e0a030' }
const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export function renderChart({ impls, metrics, machine, rounds, latencyRounds }) {
  const width = 820
  const labelWidth = 270
  const barMax = width - labelWidth - 190
  const barHeight = 14
  const groupGap = 14
  const top = 84
  const shown = metrics.filter((metric) => impls.some((impl) => Number.isFinite(metric.get(impl))))
  const groupHeight = impls.length * (barHeight + 3) + groupGap
  const height = top + shown.length * groupHeight + 40
  const out = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`,
  )
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  out.push(`<text x="12" y="22" font-size="15" font-weight="600">wsmp beside a minimal ws relay and socket.io 4.8 (pnpm bench)</text>`)
  out.push(
    `<text x="12" y="40" fill="#555">${escape(`${machine.cores} cores, ${machine.cpu}, Node ${machine.node}; medians over the rounds (fan-out ${rounds}, latency ${latencyRounds})`)}</text>`,
  )
  out.push(`<text x="12" y="56" fill="#555">bar length relative to the largest value of each metric</text>`)
  let x = 12
  for (const impl of impls) {
    const name = impl === 'ws' ? 'ws (minimal relay)' : impl
    out.push(`<rect x="${x}" y="${top - 16}" width="10" height="10" fill="${COLORS[impl] ?? '#444'}"/><text x="${x + 14}" y="${top - 7}">${escape(name)}</text>`)
    x += name.length * 7 + 40
  }
  let y = top + 6
  for (const metric of shown) {
    const values = impls.map((impl) => metric.get(impl))
    const max = Math.max(...values.filter((v) => Number.isFinite(v)))
    out.push(`<text x="12" y="${y + 12}" font-weight="600">${escape(metric.label)}</text>`)
    out.push(`<text x="12" y="${y + 26}" fill="#777">${metric.better} is better</text>`)
    impls.forEach((impl, i) => {
      const value = values[i]
      const by = y + i * (barHeight + 3)
      if (!Number.isFinite(value)) {
        out.push(`<text x="${labelWidth}" y="${by + 11}" fill="#999">${escape(impl)}: n/a</text>`)
        return
      }
      const w = max > 0 ? Math.max(1, (value / max) * barMax) : 1
      out.push(`<rect x="${labelWidth}" y="${by}" width="${w.toFixed(1)}" height="${barHeight}" fill="${COLORS[impl] ?? '#444'}"/>`)
      const ws = metric.get('ws')
      const vsWs = metric.vsWs ?? (Number.isFinite(ws) && ws > 0 ? value / ws : NaN)
      const note = impl === 'wsmp' && Number.isFinite(vsWs) ? `  (${vsWs.toFixed(2)}× ws)` : ''
      out.push(`<text x="${(labelWidth + w + 6).toFixed(1)}" y="${by + 11}">${escape(`${metric.show(value)} ${metric.unit}${note}`)}</text>`)
    })
    y += groupHeight
  }
  out.push(`<text x="12" y="${height - 12}" fill="#777">ws: the browser's native WebSocket, so no bundle. Rerun: pnpm run build &amp;&amp; pnpm bench</text>`)
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
