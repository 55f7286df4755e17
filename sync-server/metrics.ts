/** Prometheus metrics (prom-client), served at GET /metrics. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
	const registry = new Registry();
	// Includes nodejs_eventloop_lag_seconds and its percentiles, heap and RSS.
	collectDefaultMetrics({ register: registry });
	const m = {
		registry,
		connections: new Gauge({
			name: 'kith_connections',
			help: 'Open sync connections',
			registers: [registry]
		}),
		docs: new Gauge({
			name: 'kith_docs_in_memory',
			help: 'Documents loaded in memory',
			registers: [registry]
		}),
		coldDocs: new Gauge({
			name: 'kith_docs_cold',
			help: 'Documents in memory held as their stored bytes, without a Y.Doc',
			registers: [registry]
		}),
		updatesIn: new Counter({
			name: 'kith_updates_in_total',
			help: 'Document updates accepted from clients',
			registers: [registry]
		}),
		updatesOut: new Counter({
			name: 'kith_updates_out_total',
			help: 'Document updates sent to clients',
			registers: [registry]
		}),
		bytesIn: new Counter({
			name: 'kith_bytes_in_total',
			help: 'Bytes received on sync connections',
			registers: [registry]
		}),
		bytesOut: new Counter({
			name: 'kith_bytes_out_total',
			help: 'Bytes sent on sync connections',
			registers: [registry]
		}),
		writeSeconds: new Histogram({
			name: 'kith_storage_write_seconds',
			help: 'Time to commit one batch of updates to storage',
			buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
			registers: [registry]
		}),
		writeFailures: new Counter({
			name: 'kith_storage_write_failures_total',
			help: 'Failed storage commits (retried)',
			registers: [registry]
		}),
		compactions: new Counter({
			name: 'kith_compactions_total',
			help: 'Documents compacted into a snapshot',
			registers: [registry]
		}),
		compactionSeconds: new Histogram({
			name: 'kith_compaction_seconds',
			help: 'Time to compact one document',
			registers: [registry]
		}),
		closes: new Counter({
			name: 'kith_closes_total',
			help: 'Connections closed by the relay, by close code',
			labelNames: ['code'],
			registers: [registry]
		}),
		memoryReleases: new Counter({
			name: 'kith_memory_releases_total',
			help: 'Full GCs run after documents left memory, once the relay was quiet (memory.ts)',
			registers: [registry]
		}),
		refusedWrites: new Counter({
			name: 'kith_refused_writes_total',
			help: 'Updates refused by validation',
			registers: [registry]
		})
	};
	return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
