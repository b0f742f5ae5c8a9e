/**
 * @module
 * The broker's limits on topic configs that the SDK needs too (client/topic-create.ts), copied from the Worker's
 * src/shared/topic-config.ts, which cannot import outside src/ (nor the SDK from src/): test/client holds them equal.
 */

/**
 * The largest a long config holds (ms beyond this are not meaningful dates): a larger integer, Kafka's
 * Long.MAX_VALUE ("no limit") among them, is held as it.
 */
export const CONFIG_NUMBER_MAX = Number.MAX_SAFE_INTEGER;
