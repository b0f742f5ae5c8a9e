#!/usr/bin/env node
/**
 * @module
 * `tributary`: a kcat-like command line for Tributary, built on the SDK. Exit status 0 on success, 1 when the
 * broker or the network refused, 2 for a usage mistake; errors are one line on stderr, never a stack trace.
 */

import { LOCAL_URL, Tributary } from "tributary/client";
import { admin } from "./commands/admin.ts";
import { consume } from "./commands/consume.ts";
import { produce } from "./commands/produce.ts";
import { type Connection, resolveConnection } from "./connection.ts";
import { EXTENSIONS, runExtension } from "./extensions.ts";
import { exactJson } from "./json.ts";
import { errorLine, isUsageError } from "./output.ts";
import { UsageError } from "./usage-error.ts";

/** Few retries: at a prompt, a broker that is down should be said so in seconds. */
const CLI_RETRIES = 3;

const USAGE = `usage: tributary [--url URL] [--token TOKEN] COMMAND …

Connection: --url/--token, else TRIBUTARY_URL/TRIBUTARY_TOKEN, else ${LOCAL_URL} with the ADMIN_TOKEN that
\`npm start\` keeps in .dev.vars.

  topics list | create NAME [--partitions N] [--config k=v]… [--location-hint weur|enam|…] | describe NAME
         | alter NAME [--partitions N] [--config k=v]… | delete NAME
         | delete-records NAME --before OFFSET|latest [--partition N]   (latest without --partition: every partition)
  produce TOPIC [-K SEP] [--partition N] [--header k=v]… [--json]
         one record per stdin line: the line is the value; -K splits the key off at the first SEP;
         --json reads {"key","value","headers","partition","timestamp"} objects
  consume TOPIC [--group G] [--from earliest|latest|OFFSET|-N|TIMESTAMP_MS|ISO-8601] [--partition N]
         [--max N] [--exit] [--json | --format FMT]
         --from defaults to earliest (with --group: where a group without commits starts, unlike the SDK's latest);
         --exit stops once caught up; --format tokens %t %p %o %T %k %s %K %S %h, escapes \\n \\r \\t \\\\ \\xHH;
         as kcat's -f, it prints exactly the format: end it with \\n for one record a line
  groups list | describe G | reset G --topic T --to earliest|latest|OFFSET|TIMESTAMP | delete G
  keys create NAME [--acl RESOURCE=op,op]… [--quota name=N]… | list | describe ID | delete ID
       | quotas ID [--quota name=N]…   (replaces all of the key's quotas: none named removes them)
       | alter ID [--quota name=N]… [--remove-quota name]…   (changes only the quotas named)
       quotas and alter take --if-match ETAG (the etag describe prints): applied only while the key is still
       that one; describe's, quotas' and alter's --json is the API's JSON with the key's "etag" added
  anonymous show | set [--acl RESOURCE=op,op]… [--quota name=N]…   what a request without credentials may do;
       set replaces it whole: naming nothing closes public access
       | alter [--acl RESOURCE=op,op]… [--quota name=N]… [--remove-quota name]…   (changes only the quotas named,
       and the ACL, whole, when --acl is given)
       | grant RESOURCE op,op… | revoke RESOURCE [op,op…]   (one entry's operations, or with none the whole entry;
       every other entry kept, another admin's change included) | close   (empties the ACL, keeps the quotas;
       an entry granted since close read the grant is reported, not removed)
       set, alter and close take --if-match ETAG[,ETAG…] (the etag show prints, a list of them, or *): applied only
       while the grant is still one of them;
       their --json is the API's JSON with the grant's "etag" added
  subscriptions list TOPIC | create TOPIC --url URL [--from earliest|latest] | delete TOPIC ID
${Object.entries(EXTENSIONS)
	.map(([name, e]) => `  ${name} …   ${e.summary}`)
	.join("\n")}

  --json on read commands prints the API's JSON. Short forms: -K, -p, -H, -G, -o, -c, -e, -J, -f.`;

/** Splits the global options off the front; the rest belongs to the command. */
function globalOptions(argv: string[]): { url?: string; token?: string; help: boolean; rest: string[] } {
	const out: { url?: string; token?: string; help: boolean; rest: string[] } = { help: false, rest: [] };
	let i = 0;
	for (; i < argv.length; i++) {
		const arg = argv[i] as string;
		const [flag, inline] =
			arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
		if (flag === "--help" || flag === "-h") out.help = true;
		else if (flag === "--url" || flag === "--token") {
			const value = inline ?? argv[++i];
			if (value === undefined) throw new UsageError(`${flag} needs a value`);
			out[flag === "--url" ? "url" : "token"] = value;
		} else break;
	}
	out.rest = argv.slice(i);
	return out;
}

/** Takes `--url`/`--token` (and their `=` forms) out of a command's arguments, wherever they stand. */
function connectionOptions(args: string[]): { url?: string; token?: string; rest: string[] } {
	const out: { url?: string; token?: string; rest: string[] } = { rest: [] };
	for (let i = 0; i < args.length; i++) {
		const arg = args[i] as string;
		const flag = arg.startsWith("--") && arg.includes("=") ? arg.slice(0, arg.indexOf("=")) : arg;
		if (flag !== "--url" && flag !== "--token") {
			out.rest.push(arg);
			continue;
		}
		const value = flag === arg ? args[++i] : arg.slice(flag.length + 1);
		if (value === undefined) throw new UsageError(`${flag} needs a value`);
		out[flag === "--url" ? "url" : "token"] = value;
	}
	return out;
}

/** Where the command connects, once known: an unreachable broker's error names it. */
let target: string | undefined;
/** The command word, once known: a usage error may name it. */
let commandWord: string | undefined;

async function run(argv: string[]): Promise<number> {
	const global = globalOptions(argv);
	const [command, ...args] = global.rest;
	commandWord = command;
	// An extension's own --help lists its own options; only the CLI's commands share this usage.
	const ownHelp = command !== undefined && command in EXTENSIONS;
	if (global.help || command === undefined || command === "help" || (!ownHelp && (args.includes("--help") || args.includes("-h")))) {
		console.log(USAGE);
		return command === undefined && !global.help ? 2 : 0;
	}
	if (command in EXTENSIONS) {
		// An extension has no --url of its own, so its connection may follow the command, as in
		// `tributary kafka-gateway --listen … --url … --token …`.
		const own = connectionOptions(args);
		const flags = { url: own.url ?? global.url, token: own.token ?? global.token };
		const connection = await resolveConnection(flags, { tokenRequired: false });
		return runExtension(command, own.rest, connection);
	}
	const connection: Connection = await resolveConnection(global);
	target = connection.url;
	const client = new Tributary({ ...connection, retries: CLI_RETRIES, json: exactJson });
	switch (command) {
		case "produce":
			return produce(client, args);
		case "consume":
			return consume(client, args);
		case "topics":
		case "groups":
		case "keys":
		case "anonymous":
		case "subscriptions":
			await admin[command](client, args);
			return 0;
		default:
			throw new UsageError(`unknown command "${command}"`);
	}
}

process.stdout.on("error", (error: NodeJS.ErrnoException) => {
	// A closed pipe (`tributary consume … | head`) is a normal way to stop reading.
	if (error.code === "EPIPE") process.exit(0);
	throw error;
});

run(process.argv.slice(2)).then(
	(status) => {
		process.exitCode = status;
	},
	(error: unknown) => {
		process.stderr.write(`tributary: ${errorLine(error, target, commandWord)}\n`);
		process.exitCode = isUsageError(error) ? 2 : 1;
	},
);
