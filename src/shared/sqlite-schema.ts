/**
 * @module
 * Schema versioning for SQLite-backed Durable Objects (after cloudflare/agents): the stored version lives in a
 * row, and the idempotent DDL runs synchronously, in one transaction, only when that version is behind.
 *
 * Some changes cannot be written idempotently (`ALTER TABLE … ADD COLUMN` fails the second time), so a schema may
 * also list upgrade steps: each runs once, in the same transaction, on a database whose stored version is below
 * the step's version — a fresh database too, after the DDL, so the DDL's `CREATE TABLE`s stay as first written.
 *
 * A statement longer than a line is written as one-line strings joined with `+` (esbuild joins them at build time),
 * not as a template literal, whose newlines and indentation the Worker's bundle would carry.
 */

/** Statements that bring a database from the version before `version` up to it; run at most once per database. */
export interface SchemaUpgrade {
	readonly version: number;
	readonly statements: readonly string[];
	/** Work SQL alone cannot do (decoding a stored value), run after the statements in the same transaction. */
	readonly run?: (sql: SqlStorage) => void;
}

export function migrateSchema(
	storage: DurableObjectStorage,
	version: number,
	ddl: readonly string[],
	upgrades: readonly SchemaUpgrade[] = [],
): void {
	const sql = storage.sql;
	const hasTable = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").toArray().length > 0;
	const stored = hasTable
		? (sql.exec<{ version: number }>("SELECT version FROM schema_version WHERE id = 1").toArray()[0]?.version ?? 0)
		: 0;
	if (stored >= version) return;
	storage.transactionSync(() => {
		sql.exec("CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
		for (const statement of ddl) sql.exec(statement);
		for (const upgrade of upgrades) {
			if (upgrade.version <= stored || upgrade.version > version) continue;
			for (const statement of upgrade.statements) sql.exec(statement);
			upgrade.run?.(sql);
		}
		sql.exec("INSERT INTO schema_version (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version", version);
	});
}
