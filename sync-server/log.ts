/** Structured logs: one JSON object per line on stdout (pino), level from LOG_LEVEL. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
	return pino({ level, base: { service: 'kith-relay' } });
}
