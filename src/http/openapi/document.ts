/**
 * @module
 * The OpenAPI 3.1 document, generated from the operations table (operations.ts) with `z.toJSONSchema`: request
 * schemas are the ones that validate requests, so the document cannot drift from what the edge accepts. Generated
 * at build time (scripts/lib/api-docs.mjs writes it into the static assets, served at `/openapi.json`): this
 * module and the JSON Schema conversion are not part of the Worker's bundle.
 */

import * as z from "zod/mini";
import { MERGE_PATCH_TYPES } from "../body.ts";
import { ROUTES, type RouteFacts } from "../route-table.ts";
import { type DocumentedRoute, OPERATIONS, type Operation } from "./operations.ts";
import { ErrorResponse } from "./responses.ts";

type JsonSchema = Record<string, unknown>;

/** A zod schema as an OpenAPI 3.1 schema object (JSON Schema 2020-12), for requests (`input`) or responses. */
export function jsonSchema(schema: z.core.$ZodType, io: "input" | "output"): JsonSchema {
	const generated = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonSchema;
	delete generated.$schema;
	return generated;
}

/** `/v1/topics/:topic` → `/v1/topics/{topic}` */
function openApiPath(path: string): string {
	return path.replace(/:([A-Za-z_]+)/g, "{$1}");
}

function parameters(op: Operation): JsonSchema[] {
	const out: JsonSchema[] = [];
	for (const [where, schema] of [
		["path", op.path],
		["query", op.query],
	] as const) {
		if (schema === undefined) continue;
		const object = jsonSchema(schema, "input");
		const required = new Set((object.required as string[] | undefined) ?? []);
		for (const [name, property] of Object.entries((object.properties ?? {}) as Record<string, JsonSchema>)) {
			out.push({ name, in: where, required: where === "path" || required.has(name), schema: property });
		}
	}
	for (const header of op.headers ?? []) {
		out.push({ name: header.name, in: "header", required: false, description: header.description, schema: { type: "string" } });
	}
	return out;
}

function requestBody(key: DocumentedRoute, op: Operation): JsonSchema | undefined {
	const content: Record<string, JsonSchema> = {};
	const body = op.body;
	const mergePatch = (ROUTES as Record<string, RouteFacts>)[key]?.mergePatch === true;
	if (body !== undefined)
		for (const type of mergePatch ? MERGE_PATCH_TYPES : ["application/json"]) content[type] = { schema: jsonSchema(body.schema, "input") };
	for (const [media, description] of Object.entries(op.otherMedia ?? {})) content[media] = { schema: { type: "string", description } };
	if (Object.keys(content).length === 0) return undefined;
	return { required: op.body?.optional !== true, content };
}

const ERROR_REF = { $ref: "#/components/schemas/Error" };

function headerObjects(headers: Readonly<Record<string, string>>): JsonSchema {
	return Object.fromEntries(Object.entries(headers).map(([name, description]) => [name, { description, schema: { type: "string" } }]));
}

function responses(op: Operation): JsonSchema {
	const out: Record<string, JsonSchema> = {};
	for (const [status, schema] of Object.entries(op.responses)) {
		const content: Record<string, JsonSchema> = {};
		if (schema !== null) content["application/json"] = { schema: jsonSchema(schema, "output") };
		for (const [media, description] of Object.entries(op.responseMedia ?? {})) content[media] = { schema: { type: "string", description } };
		out[status] = {
			description: status === "204" ? "No content" : "Success",
			...(Object.keys(content).length > 0 ? { content } : {}),
			...(op.responseHeaders === undefined ? {} : { headers: headerObjects(op.responseHeaders) }),
		};
	}
	for (const [status, description] of Object.entries(op.errors ?? {}))
		out[status] = { description, content: { "application/json": { schema: ERROR_REF } } };
	out["4XX"] = { description: "The request was refused; `error.code` says why", content: { "application/json": { schema: ERROR_REF } } };
	out["5XX"] = {
		description: "Unavailable or failed; `error.retriable` says whether to retry",
		content: { "application/json": { schema: ERROR_REF } },
	};
	return out;
}

function build(): JsonSchema {
	const paths: Record<string, Record<string, JsonSchema>> = {};
	for (const [key, op] of Object.entries(OPERATIONS) as [DocumentedRoute, Operation][]) {
		const [method, path] = key.split(" ") as [string, string];
		const item = paths[openApiPath(path)] ?? {};
		paths[openApiPath(path)] = item;
		const body = requestBody(key, op);
		item[method.toLowerCase()] = {
			operationId: `${method.toLowerCase()}${path.replace(/[/:]+([a-z])/g, (_, c: string) => c.toUpperCase()).replace(/[^A-Za-z]/g, "")}`,
			summary: op.summary,
			tags: [op.tag],
			parameters: parameters(op),
			...(body === undefined ? {} : { requestBody: body }),
			responses: responses(op),
		};
	}
	return {
		openapi: "3.1.0",
		info: {
			title: "Tributary",
			version: "0.1.0",
			description: "Kafka-style event streaming on Cloudflare Workers and Durable Objects.",
		},
		security: [{ bearer: [] }, { basic: [] }],
		paths,
		components: {
			schemas: { Error: jsonSchema(ErrorResponse, "output") },
			securitySchemes: {
				bearer: { type: "http", scheme: "bearer", description: "The admin token or an API key's secret" },
				basic: { type: "http", scheme: "basic", description: "admin:<admin token>, or <key id>:<key secret>" },
			},
		},
	};
}

/**
 * The document. `servers` is the relative "/": the API is at the origin that serves the document, whichever it is
 * (a deploy, `npm start`, a test's port).
 */
export function openApiDocument(): JsonSchema {
	return { ...build(), servers: [{ url: "/", description: "The origin serving this document" }] };
}
