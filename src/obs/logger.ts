import { pino, type Logger } from 'pino';

/** The one root logger: JSON lines, the bearer token never written. */
export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: ['req.headers.authorization'], censor: '[redacted]' } });
}
