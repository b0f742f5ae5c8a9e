/**
 * @module
 * `topics`, `groups`, `keys`, `anonymous` and `subscriptions`: the admin commands. Read commands print a table, or
 * with `--json` the API's JSON object.
 */

import { parseArgs } from "node:util";
import type { AclEntry, AnonymousAccess, KeyInfo, LocationHint, PartitionOffsets, ResetTarget, Tributary } from "tributary/client";
import { printJson, table } from "../output.ts";
import { integer, pairs, timeMs, UsageError } from "../usage-error.ts";

type Options = NonNullable<Parameters<typeof parseArgs>[0]>["options"];
type Values = Record<string, string | boolean | Array<string | boolean> | undefined>;

/** A subcommand's options (plus `--json`), strict: an unknown option is a usage error. */
function parse(args: string[], options: Options = {}): { values: Values; positionals: string[] } {
	return parseArgs({ args, options: { json: { type: "boolean", short: "J" }, ...options }, allowPositionals: true, strict: true });
}

function need(positionals: string[], index: number, what: string): string {
	const value = positionals[index];
	if (value === undefined) throw new UsageError(`missing ${what}`);
	return value;
}

function sub(args: string[], command: string, known: readonly string[]): [string, string[]] {
	const [name, ...rest] = args;
	if (name === undefined || !known.includes(name)) throw new UsageError(`${command} takes one of: ${known.join(", ")}`);
	return [name, rest];
}

function noExtra(positionals: string[], count: number): void {
	if (positionals.length > count) throw new UsageError(`unexpected argument "${positionals[count]}"`);
}

export async function topics(client: Tributary, args: string[]): Promise<void> {
	const [name, rest] = sub(args, "topics", ["list", "create", "describe", "alter", "delete", "delete-records"]);
	if (name === "delete-records") return deleteRecords(client, rest);
	const { values, positionals } = parse(rest, {
		partitions: { type: "string", short: "p" },
		config: { type: "string", short: "c", multiple: true },
		"location-hint": { type: "string" },
	});
	if (name === "list") {
		noExtra(positionals, 0);
		const list = await client.topics.list();
		if (values.json) return printJson({ topics: list });
		console.log(
			table(
				["TOPIC", "PARTITIONS"],
				list.map((t) => [t.name, t.partitions]),
			),
		);
		return;
	}
	const topic = need(positionals, 0, "topic name");
	noExtra(positionals, 1);
	const partitions = integer("--partitions", values.partitions as string | undefined, 1);
	const config = pairs("--config", values.config as string[] | undefined, true);
	const configGiven = Object.keys(config).length > 0;
	if (name === "create") {
		const hint = values["location-hint"] as LocationHint | undefined;
		const created = await client.topics.create({
			name: topic,
			...(partitions ? { partitions } : {}),
			...(configGiven ? { config } : {}),
			...(hint === undefined ? {} : { location_hint: hint }),
		});
		if (values.json) return printJson(created);
		console.log(`created topic ${created.name} with ${created.partitions} partition(s)`);
	} else if (name === "describe") {
		const d = await client.topics.describe(topic);
		if (values.json) return printJson(d);
		// The topic id tells this topic from an earlier one of the same name (kafka-topics --describe prints it too).
		console.log(
			`topic ${d.name} (id ${d.topic_id}): ${d.partitions.length} partition(s)${d.location_hint ? `, location hint ${d.location_hint}` : ""}`,
		);
		for (const [k, v] of Object.entries(d.config)) console.log(`  ${k}=${v}`);
		console.log(partitionTable(d.partitions));
	} else if (name === "alter") {
		if (partitions === undefined && !configGiven) throw new UsageError("topics alter needs --partitions N or --config k=v");
		const altered = await client.topics.alter(topic, { ...(partitions ? { partitions } : {}), ...(configGiven ? { config } : {}) });
		if (values.json) return printJson(altered);
		console.log(`altered topic ${altered.name}: ${altered.partitions} partition(s)`);
	} else {
		await client.topics.delete(topic);
		console.log(`deleted topic ${topic}`);
	}
}

/**
 * `topics delete-records NAME --before OFFSET|latest [--partition N]` (Kafka's kafka-delete-records): moves the log
 * start of partition N, or with `latest` and no `--partition` of every partition, and prints the new log starts.
 */
async function deleteRecords(client: Tributary, args: string[]): Promise<void> {
	const { values, positionals } = parse(args, { partition: { type: "string" }, before: { type: "string" } });
	const topic = need(positionals, 0, "topic name");
	noExtra(positionals, 1);
	const before = values.before as string | undefined;
	const partition = integer("--partition", values.partition as string | undefined);
	if (before === undefined) throw new UsageError("topics delete-records needs --before OFFSET|latest");
	const offset = before === "latest" ? before : integer("--before", before);
	if (offset === undefined) throw new UsageError("--before takes an offset or latest");
	if (partition === undefined && offset !== "latest")
		throw new UsageError("--before OFFSET needs --partition N (latest alone empties every partition)");
	const partitions = partition === undefined ? (await client.topics.describe(topic)).partitions.map((p) => p.partition) : [partition];
	const moved = [];
	for (const p of partitions) moved.push({ partition: p, log_start_offset: await client.topics.deleteRecords(topic, p, offset) });
	if (values.json) return printJson({ topic, partitions: moved });
	console.log(
		table(
			["PARTITION", "LOG_START_OFFSET"],
			moved.map((m) => [m.partition, m.log_start_offset]),
		),
	);
}

/**
 * A topic's partitions: RECORDS and BYTES are what each holds in both tiers (the broker's counts: compaction
 * leaves fewer records than the offset range), REMOTE_RECORDS and REMOTE_BYTES the share of them in R2.
 */
function partitionTable(partitions: readonly PartitionOffsets[]): string {
	const rows = partitions.map((p) => [
		p.partition,
		p.log_start_offset,
		p.local_log_start_offset,
		p.high_watermark,
		p.records + p.remote_records,
		p.bytes + p.remote_bytes,
		p.remote_records,
		p.remote_bytes,
	]);
	const header = [
		"PARTITION",
		"LOG_START_OFFSET",
		"LOCAL_LOG_START_OFFSET",
		"HIGH_WATERMARK",
		"RECORDS",
		"BYTES",
		"REMOTE_RECORDS",
		"REMOTE_BYTES",
	];
	return table(header, rows);
}

/** `--to`: earliest, latest, an offset, or a time (epoch ms or ISO-8601). */
function resetTarget(text: string): ResetTarget {
	if (text === "earliest" || text === "latest") return text;
	const ms = timeMs(text);
	if (ms !== null) return { timestamp: ms };
	if (/^\d+$/.test(text)) return { offset: Number(text) };
	throw new UsageError(`--to takes earliest, latest, an offset, epoch milliseconds or an ISO-8601 time, not "${text}"`);
}

export async function groups(client: Tributary, args: string[]): Promise<void> {
	const [name, rest] = sub(args, "groups", ["list", "describe", "reset", "delete"]);
	const { values, positionals } = parse(rest, { topic: { type: "string", short: "t" }, to: { type: "string" } });
	if (name === "list") {
		noExtra(positionals, 0);
		const list = await client.groups.list();
		if (values.json) return printJson({ groups: list });
		console.log(
			table(
				["GROUP", "STATE", "MEMBERS"],
				list.map((g) => [g.group, g.state, g.members]),
			),
		);
		return;
	}
	const group = need(positionals, 0, "group id");
	noExtra(positionals, 1);
	if (name === "describe") {
		const d = await client.groups.describe(group);
		if (values.json) return printJson(d);
		console.log(`group ${d.group}: ${d.state}, generation ${d.generation}, ${d.members.length} member(s)`);
		const owner = new Map<string, string>();
		for (const m of d.members) for (const tp of m.assignment) owner.set(`${tp.topic}/${tp.partition}`, m.member_id);
		const rows = d.offsets.map((o) => [
			o.topic,
			o.partition,
			o.committed,
			o.high_watermark,
			o.lag,
			owner.get(`${o.topic}/${o.partition}`) ?? null,
		]);
		console.log(table(["TOPIC", "PARTITION", "COMMITTED", "HIGH_WATERMARK", "LAG", "MEMBER"], rows));
	} else if (name === "reset") {
		const topic = values.topic as string | undefined;
		const to = values.to as string | undefined;
		if (topic === undefined || to === undefined) throw new UsageError("groups reset needs --topic T --to earliest|latest|OFFSET|TIMESTAMP");
		const reset = await client.groups.resetOffsets(group, topic, resetTarget(to));
		if (values.json) return printJson(reset);
		console.log(`reset group ${group} on ${topic}`);
	} else {
		await client.groups.delete(group);
		console.log(`deleted group ${group}`);
	}
}

/** `op,op…`, as `--acl` and `anonymous grant|revoke` take an entry's operations. */
function operationList(text: string): string[] {
	return text.split(",").filter(Boolean);
}

/** `--acl RESOURCE=op,op` (repeatable), e.g. `--acl topic:orders=produce,describe`. */
function aclEntries(items: readonly string[] | undefined) {
	return (items ?? []).map((item) => {
		const at = item.lastIndexOf("=");
		if (at <= 0) throw new UsageError(`--acl takes RESOURCE=op[,op…], e.g. topic:orders=produce,describe; not "${item}"`);
		return { resource: item.slice(0, at), operations: operationList(item.slice(at + 1)) };
	});
}

/**
 * `anonymous grant RESOURCE op,op…` and `anonymous revoke RESOURCE [op,op…]`: one entry, made to the grant as stored
 * then and written If-Match it (the SDK's `grant` and `revoke`), so another admin's entries are kept.
 */
function aclChange(client: Tributary, name: "grant" | "revoke", positionals: string[]): Promise<AnonymousAccess> {
	const resource = need(positionals, 0, "resource, e.g. topic:news.*");
	const listed = positionals[1];
	noExtra(positionals, 2);
	const operations = listed === undefined ? undefined : operationList(listed);
	if (operations?.length === 0 || (name === "grant" && operations === undefined))
		throw new UsageError(`anonymous ${name} takes operations as op[,op…], e.g. consume,describe`);
	if (name === "grant") return client.anonymous.grant({ resource, operations: operations ?? [] });
	return client.anonymous.revoke({ resource, operations });
}

/** `topic:a=produce,describe group:b=consume`, as `--acl` takes them. */
function aclText(acl: readonly AclEntry[]): string {
	return acl.map((e) => `${e.resource}=${e.operations.join(",")}`).join(" ");
}

/** `quotas a=1 b=2`, or `no quotas`. */
function quotaText(quotas: Record<string, number>): string {
	const listed = Object.entries(quotas).map(([quota, rate]) => `${quota}=${rate}`);
	return listed.length === 0 ? "no quotas" : `quotas ${listed.join(" ")}`;
}

/** `--quota name=N` and `--remove-quota name` as a merge patch of quotas: a rate sets one, null removes it. */
function quotaPatch(quotas: Record<string, number>, removed: readonly string[] = []): Record<string, number | null> {
	const patch: Record<string, number | null> = { ...quotas };
	for (const quota of removed) {
		if (quota in quotas) throw new UsageError(`--quota and --remove-quota both name ${quota}`);
		patch[quota] = null;
	}
	return patch;
}

/**
 * `keys create NAME [--acl …]… [--quota name=N]… | list | describe ID | quotas ID [--quota name=N]… | alter ID
 * [--quota name=N]… [--remove-quota name]… | delete ID`. `describe` prints the key's ETag, which `quotas` and `alter`
 * take as `--if-match`, as `anonymous show`'s: the change applies only while the key is still the one shown (else a
 * 412, which the error line explains). With `--json`, `describe`, `quotas` and `alter` print the API's JSON with the
 * ETag added as `"etag"`.
 */
export async function keys(client: Tributary, args: string[]): Promise<void> {
	const [name, rest] = sub(args, "keys", ["create", "list", "describe", "quotas", "alter", "delete"]);
	const { values, positionals } = parse(rest, {
		acl: { type: "string", multiple: true },
		quota: { type: "string", multiple: true },
		"remove-quota": { type: "string", multiple: true },
		...(name === "quotas" || name === "alter" ? { "if-match": { type: "string" } } : {}),
	});
	const ifMatch = entityTag(values["if-match"] as string | undefined, "keys describe");
	if (name === "list") {
		noExtra(positionals, 0);
		const list = await client.keys.list();
		if (values.json) return printJson({ keys: list });
		console.log(
			table(
				["ID", "NAME", "ACL"],
				list.map((k) => [k.id, k.name, aclText(k.acl)]),
			),
		);
		return;
	}
	const target = need(positionals, 0, name === "create" ? "key name" : "key id");
	noExtra(positionals, 1);
	const quotas = pairs("--quota", values.quota as string[] | undefined, true) as Record<string, number>;
	if (name === "create") {
		const created = await client.keys.create({ name: target, acl: aclEntries(values.acl as string[] | undefined), quotas });
		if (values.json) return printJson(created);
		console.log(`created key ${created.id} (${created.name})`);
		console.log(`secret: ${created.secret}`);
		console.error("the secret is shown once: keep it now");
	} else if (name === "describe") {
		const key = await client.keys.get(target);
		const etag = client.keys.etagOf(key);
		if (values.json) return printJson(tagged(key, etag));
		console.log(`key ${key.id} (${key.name}), created ${new Date(key.created_at_ms).toISOString()}`);
		console.log(`  acl: ${key.acl.length === 0 ? "none" : aclText(key.acl)}`);
		console.log(`  ${quotaText(key.quotas)}`);
		if (etag !== undefined) console.log(`  etag: ${etag}   (quotas and alter take it as --if-match)`);
	} else if (name === "quotas" || name === "alter") {
		let changed: KeyInfo;
		// A whole replacement, as the API's: the quotas not named are removed.
		if (name === "quotas") changed = await client.keys.setQuotas(target, quotas, { ifMatch });
		else {
			// Only the quotas named change (kafka-configs --alter --add-config/--delete-config), in one request.
			const patch = quotaPatch(quotas, values["remove-quota"] as string[] | undefined);
			if (Object.keys(patch).length === 0) throw new UsageError("keys alter needs --quota name=N or --remove-quota name");
			changed = await client.keys.updateQuotas(target, patch, { ifMatch });
		}
		if (values.json) return printJson(tagged(changed, client.keys.etagOf(changed)));
		console.log(`key ${target}: ${quotaText(changed.quotas)}`);
	} else {
		await client.keys.delete(target);
		console.log(`deleted key ${target}`);
	}
}

/**
 * `anonymous show | set [--acl RESOURCE=op,op]… [--quota name=N]… | alter [--acl RESOURCE=op,op]… [--quota name=N]…
 * [--remove-quota name]… | grant RESOURCE op,op… | revoke RESOURCE [op,op…] | close`: what a request without
 * credentials may do. `set` replaces the grant whole, as `PUT /v1/anonymous` does: naming nothing closes public access
 * and removes the quotas. `alter` changes only what it names, as `PATCH` does: each quota named, and the ACL (whole)
 * when `--acl` is given. `grant` and `revoke` change one entry (kafka-acls --add, --remove) and keep the rest.
 * `close` empties the ACL alone (the console's "Close public access", the SDK's `anonymous.close`): the quotas stay for
 * a later grant, and an entry another admin granted between its read and its write is a 412 naming it, not removed.
 * `show` prints the grant's ETag, which `set`, `alter` and `close` take as `--if-match`: the change applies only while
 * the grant is still the one shown, so a decision made on what `show` printed never overwrites another admin's change
 * made since (a 412, which the error line explains). With `--json`, every subcommand prints the API's JSON with the
 * grant's ETag added as `"etag"`.
 */
export async function anonymous(client: Tributary, args: string[]): Promise<void> {
	const [name, rest] = sub(args, "anonymous", ["show", "set", "alter", "grant", "revoke", "close"]);
	const conditional = name === "set" || name === "alter" || name === "close";
	const { values, positionals } = parse(rest, {
		...(name === "set" || name === "alter" ? { acl: { type: "string", multiple: true }, quota: { type: "string", multiple: true } } : {}),
		...(name === "alter" ? { "remove-quota": { type: "string", multiple: true } } : {}),
		...(conditional ? { "if-match": { type: "string" } } : {}),
	});
	const ifMatch = entityTag(values["if-match"] as string | undefined, "anonymous show");
	if (name !== "grant" && name !== "revoke") noExtra(positionals, 0);
	const acl = values.acl === undefined ? undefined : aclEntries(values.acl as string[]);
	const quotas = pairs("--quota", values.quota as string[] | undefined, true) as Record<string, number>;
	let grant: AnonymousAccess;
	if (name === "grant" || name === "revoke") grant = await aclChange(client, name, positionals);
	else if (name === "show") grant = await client.anonymous.get();
	// Without --if-match, close decides on the grant it reads, as the console's Close public access does on the one it
	// showed: an entry another admin granted meanwhile is reported (a 412 naming it), not removed unseen.
	else if (name === "close")
		grant = ifMatch === undefined ? await client.anonymous.close() : await client.anonymous.update({ acl: [] }, { ifMatch });
	else if (name === "set") grant = await client.anonymous.set({ acl: acl ?? [], quotas }, { ifMatch });
	else {
		const patch = quotaPatch(quotas, values["remove-quota"] as string[] | undefined);
		if (acl === undefined && Object.keys(patch).length === 0)
			throw new UsageError("anonymous alter needs --acl, --quota or --remove-quota");
		grant = await client.anonymous.update({ ...(acl === undefined ? {} : { acl }), quotas: patch }, { ifMatch });
	}
	const etag = client.anonymous.etagOf(grant);
	if (values.json) return printJson(tagged(grant, etag));
	console.log("anonymous:");
	console.log(`  acl: ${grant.acl.length === 0 ? "none (a request without credentials is refused)" : aclText(grant.acl)}`);
	console.log(`  ${quotaText(grant.quotas)}`);
	if (name === "show" && etag !== undefined) console.log(`  etag: ${etag}   (set, alter and close take it as --if-match)`);
}

/**
 * A grant (a key, anonymous's) for `--json`. The ETag travels in a header, outside the API's JSON: added to it as
 * "etag" (as kubectl's -o json carries metadata.resourceVersion), so a script can go show → edit → write --if-match,
 * and chain writes.
 */
function tagged<T extends object>(grant: T, etag: string | undefined): T | (T & { etag: string }) {
	return etag === undefined ? grant : { ...grant, etag };
}

/**
 * `--if-match`'s value as If-Match's list of entity tags (RFC 9110 §13.1.1: `#entity-tag`, which the API reads whole:
 * the change applies while the grant is any one of them; §8.8.3: `[W/]"etagc*"`, etagc any visible ASCII but `"`).
 * Each tag quoted as `show` prints it and the API sends it, weak (`W/"…"`, sent as it is: If-Match compares strongly,
 * so that one never matches), or bare, as a shell leaves `--if-match "x1y2"` once it has taken the quotes off, then
 * quoted (a bare tag holds no comma: there it ends). `*` alone (spaces around it too, as the API trims it) is sent as
 * it is: If-Match's "any current representation", where quoted it would be a tag no grant has; in a list it is
 * neither (§13.1.1: `"*" / #entity-tag`), a usage mistake naming it. So is any other text, such as a tag with one quote
 * of its two, or a list of none: sent, it would be the API's 400.
 */
function entityTag(text: string | undefined, shownBy: string): string | undefined {
	if (text === undefined) return undefined;
	if (text.trim() === "*") return "*";
	const tags: string[] = [];
	// Sticky: each element is read where the previous one's comma ended, so nothing between them goes unread.
	const element = /[ \t]*((?:W\/)?"[!#-~]*"|[!#-+\--~]+)?[ \t]*(,|$)/y;
	for (let read = element.exec(text); read !== null; read = element.exec(text)) {
		const tag = read[1];
		if (tag === "*") throw new UsageError(`--if-match '${text}' lists *: * (any grant) stands alone, not in a list of entity tags`);
		if (tag !== undefined) tags.push(tag.endsWith('"') ? tag : `"${tag}"`);
		if (read[2] === "") return tags.length === 0 ? notTag(text, shownBy) : tags.join(", ");
	}
	return notTag(text, shownBy);
}

/** The usage mistake of an `--if-match` that is no entity tag, naming the command that prints one (`shownBy`). */
function notTag(text: string, shownBy: string): never {
	throw new UsageError(
		`--if-match '${text}' is not an entity tag: give the etag \`${shownBy}\` prints, such as "x1y2", a list of them ("x1y2", "z3"), or *`,
	);
}

export async function subscriptions(client: Tributary, args: string[]): Promise<void> {
	const [name, rest] = sub(args, "subscriptions", ["list", "create", "delete"]);
	const { values, positionals } = parse(rest, {
		url: { type: "string" },
		from: { type: "string" },
		"batch-records": { type: "string" },
		"batch-wait-ms": { type: "string" },
	});
	const topic = need(positionals, 0, "topic name");
	if (name === "list") {
		noExtra(positionals, 1);
		const list = await client.subscriptions.list(topic);
		if (values.json) return printJson({ subscriptions: list });
		console.log(
			table(
				["ID", "STATUS", "URL"],
				list.map((s) => [s.id, s.status, s.url]),
			),
		);
	} else if (name === "create") {
		noExtra(positionals, 1);
		const url = values.url as string | undefined;
		if (url === undefined) throw new UsageError("subscriptions create needs --url URL");
		const from = values.from as string | undefined;
		if (from !== undefined && from !== "earliest" && from !== "latest") throw new UsageError("--from takes earliest or latest");
		const batchRecords = integer("--batch-records", values["batch-records"] as string | undefined, 1);
		const batchWaitMs = integer("--batch-wait-ms", values["batch-wait-ms"] as string | undefined);
		const created = await client.subscriptions.create(topic, {
			url,
			...(from === undefined ? {} : { start: from }),
			...(batchRecords === undefined ? {} : { batch_max_records: batchRecords }),
			...(batchWaitMs === undefined ? {} : { batch_max_wait_ms: batchWaitMs }),
		});
		if (values.json) return printJson(created);
		console.log(`created subscription ${created.id} on ${topic} → ${created.url}`);
		if (typeof created.secret === "string") console.log(`signing secret: ${created.secret}`);
	} else {
		const id = need(positionals, 1, "subscription id");
		noExtra(positionals, 2);
		await client.subscriptions.delete(topic, id);
		console.log(`deleted subscription ${id}`);
	}
}

export const admin = { topics, groups, keys, anonymous, subscriptions };
