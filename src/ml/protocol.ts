/**
 * The measurement protocol the predictors learn and are scored under, that of the real validation runs:
 * one-hour windows driven by vLLM's benchmark client, which fails requests beyond 28,232 in flight
 * (one TCP connection per request, Linux's default ephemeral port range 32768-60999).
 */
export const benchmarkClientMaxInFlight = 28_232;
export const protocolDurationS = 3600;
