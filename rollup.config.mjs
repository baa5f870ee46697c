// Builds every package: ESM (.mjs) + CJS (.cjs) from src, one bundled .d.ts from tsc's lib/ output,
// and the script-tag IIFE of core + client (packages/client/dist/wsmp.min.js, global WSMP).
//
// Code that only one environment runs lives in modules of its own, picked by package export
// conditions: @wsmp/client's `#socket` import is src/socket.browser.ts for browsers and
// src/socket.node.ts for Node (package.json "imports"). Each such module is an entry of its own
// here, and `#socket` stays an import in the built index, for the consumer's resolver to pick.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import typescript from '@rollup/plugin-typescript'
import { nodeResolve } from '@rollup/plugin-node-resolve'
import terser from '@rollup/plugin-terser'
import { dts } from 'rollup-plugin-dts'

/** The entry points of each package: src/NAME.ts → dist/NAME.mjs, .cjs and .d.ts. */
const entries = {
  core: ['index'],
  client: ['index', 'socket.node', 'socket.browser'],
  server: ['index'],
  godot: ['index'],
  cluster: ['index'],
}
const packages = Object.keys(entries)

/** The script-tag bundle must stay under this many bytes gzipped (packages/server/test/bundle-size.test.ts checks it too). */
export const IIFE_GZIP_LIMIT = 16 * 1024

/** What a package's build leaves to the consumer's resolver: its dependencies, Node's modules and its own `#` imports. */
function externals(name) {
  const pkg = JSON.parse(readFileSync(`packages/${name}/package.json`, 'utf8'))
  const deps = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })
  return (id) => id.startsWith('node:') || id.startsWith('#') || deps.some((d) => id === d || id.startsWith(`${d}/`))
}

/** TypeScript for package `name`; `conditions` are the export conditions its imports resolve with. */
function ts(name, conditions = ['source']) {
  return typescript({
    tsconfig: `packages/${name}/tsconfig.json`,
    compilerOptions: {
      composite: false,
      declaration: false,
      declarationMap: false,
      emitDeclarationOnly: false,
      noEmit: false,
      incremental: false,
      tsBuildInfoFile: undefined,
      outDir: `packages/${name}/dist`,
      customConditions: conditions,
    },
  })
}

/** Prints the gzipped size of the script-tag bundle once it is written, and warns over the limit. */
function reportSize() {
  return {
    name: 'report-size',
    writeBundle(options, bundle) {
      for (const file of Object.values(bundle)) {
        if (file.type !== 'chunk') continue
        const gz = gzipSync(file.code, { level: 9 }).length
        console.log(`${options.file}: ${(file.code.length / 1024).toFixed(1)} KB min, ${(gz / 1024).toFixed(2)} KB gzip (limit ${IIFE_GZIP_LIMIT / 1024} KB)`)
        // Over the limit the build still succeeds (so the other tests run); the bundle-size test fails.
        if (gz > IIFE_GZIP_LIMIT) this.warn(`${options.file} is ${gz} bytes gzipped, over the ${IIFE_GZIP_LIMIT}-byte limit`)
      }
    },
  }
}

/**
 * The script-tag bundle's licence/version banner, made from what the chunk really contains: every
 * package bundled from node_modules is named with its version, licence and author, as their licences
 * ask (a `/*!` comment, which terser keeps).
 */
function licenseBanner(chunk) {
  const client = JSON.parse(readFileSync('packages/client/package.json', 'utf8'))
  const bundled = new Map()
  for (const id of chunk.moduleIds) {
    const at = id.lastIndexOf('node_modules/')
    if (at < 0) continue
    const parts = id.slice(at + 'node_modules/'.length).split('/')
    const name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]
    if (bundled.has(name)) continue
    const pkg = JSON.parse(readFileSync(`${id.slice(0, at)}node_modules/${name}/package.json`, 'utf8'))
    const author = typeof pkg.author === 'string' ? pkg.author.replace(/\s*[<(].*$/, '') : (pkg.author?.name ?? '')
    bundled.set(name, `${name} ${pkg.version} (${[pkg.license, author].filter(Boolean).join(', ')})`)
  }
  const includes = bundled.size > 0 ? ` | includes ${[...bundled.values()].sort().join(', ')}` : ''
  return `/*! wsmp ${client.name} v${client.version} | ${client.license} | https://github.com/wsmp/wsmp${includes} */`
}


/** Prints the written bundle's Subresource Integrity hash, for `<script integrity="…">` (README "Install"). */
function reportIntegrity() {
  return {
    name: 'report-integrity',
    writeBundle(options) {
      const hash = createHash('sha384').update(readFileSync(options.file)).digest('base64')
      console.log(`${options.file}: integrity sha384-${hash}`)
    },
  }
}

export default [
  ...packages.flatMap((name) =>
    entries[name].map((entry) => ({
      input: `packages/${name}/src/${entry}.ts`,
      external: externals(name),
      plugins: [ts(name)],
      output: [
        { file: `packages/${name}/dist/${entry}.mjs`, format: 'es', sourcemap: true },
        { file: `packages/${name}/dist/${entry}.cjs`, format: 'cjs', exports: 'named', sourcemap: true },
      ],
    })),
  ),
  ...packages.flatMap((name) =>
    entries[name].map((entry) => ({
      input: `packages/${name}/lib/${entry}.d.ts`,
      external: externals(name),
      plugins: [dts()],
      // The same declarations twice: .d.ts types the ESM build (the packages are "type": "module")
      // and .d.cts the CJS build, so TypeScript under node16/nodenext sees each build's own format.
      output: [
        { file: `packages/${name}/dist/${entry}.d.ts`, format: 'es' },
        { file: `packages/${name}/dist/${entry}.d.cts`, format: 'es' },
      ],
    })),
  ),
  {
    // The script tag: core + client + their dependencies in one file. nodeResolve's `browser`
    // condition picks the browser's socket and the browser builds of the dependencies.
    input: 'packages/client/src/script-tag.ts',
    plugins: [nodeResolve({ browser: true }), ts('client', ['browser', 'source'])],
    output: {
      file: 'packages/client/dist/wsmp.min.js',
      format: 'iife',
      name: 'WSMP',
      banner: licenseBanner,
      plugins: [
        terser({
          ecma: 2020,
          // Options picked by measuring the gzipped size (not the minified one): fewer sequences and
          // less inlining leave repeated shapes that gzip folds.
          compress: { passes: 3, unsafe_arrows: true, pure_getters: true, keep_fargs: false, unsafe_comps: true, inline: 1, sequences: false },
          // Members whose names start with `_` are wsmp's internals, and the rest of the list are
          // msgpack's and nanoevents' internals: nothing outside the bundle reads them. `builtins`
          // lets names that are also DOM properties (items, view, stack…) be mangled too, so the list
          // must name nothing the bundle reads from a built-in object or hands to the user (an
          // encodeVar result's `bytes`, an array's `find`).
          mangle: { properties: { builtins: true, regex: /^_[a-z]|^(onOpen|onMessage|onClose|items|head|events|emit|hasRoom|isValidCloseCode|watchDrain|startHeartbeat|stopHeartbeat|adopt|overhead|isIdTaken|beforePoll|sendAuthFrame|admit|expire|received|discard|releasePacket|wasString|appendBuffer|builtInDecoders|builtInEncoders|caches|canBeCached|clone|context|countWithoutUndefined|createExtraByteError|decodeArrayStream|decodeAsync|decodeBinary|decodeExtension|decodeMulti|decodeMultiAsync|decodeStream|decodeString|decodeUtf8String|defaultCodec|doDecodeSync|doEncode|encodeArray|encodeBigInt64|encodeBinary|encodeBoolean|encodeExtension|encodeMap|encodeNil|encodeNumber|encodeNumberAsFloat|encodeObject|encodeSharedRef|encodeString|encoders|ensureBufferSizeToWrite|entered|extensionCodec|forceFloat32|forceIntegerToFloat|getUninitializedStateFromPool|hasRemaining|headByte|ignoreUndefined|initialBufferSize|keyDecoder|lookU16|lookU32|lookU8|mapKeyConverter|maxArrayLength|maxBinLength|maxDepth|maxExtLength|maxKeyLength|maxLengthPerKey|maxMapLength|maxStrLength|miss|pos|pushArrayState|pushMapState|rawStrings|readArraySize|readF32|readF64|readHeadByte|readI16|readI32|readI64|readI64AsBigInt|readI8|readU16|readU32|readU64|readU64AsBigInt|readU8|register|reinitializeState|reset|resizeBuffer|setBuffer|sortKeys|stack|stackHeadPosition|stateIsMapKey|top|totalPos|tryToEncode|useBigInt64|writeBigInt64|writeBigUint64|writeF32|writeF64|writeI16|writeI32|writeI64|writeI8|writeStringHeader|writeU16|writeU32|writeU64|writeU8|writeU8a|view|complete|hit|readCount|position|array|decoders|sec|nsec)$/ } },
        }),
        reportSize(),
        reportIntegrity(),
      ],
    },
  },
]
