export { RedisCluster } from './cluster.js'
export { RedisAuthority, type AuthorityEvents, type AuthorityOptions, type AuthorityStats, type EdgeInfo } from './authority.js'
export { RedisEdge, type EdgeEvents, type EdgeOptions, type EdgeStats } from './edge.js'
export { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_HEARTBEAT_MS, DEFAULT_TIMEOUT_MS, type RedisClusterOptions } from './redis.js'
