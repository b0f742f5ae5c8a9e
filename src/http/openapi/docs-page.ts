/**
 * @module
 * `/docs`: the OpenAPI document rendered as one self-contained HTML page at build time — no script, no CDN, no
 * request after it loads — so it works offline and under a CSP that allows nothing but its own inline style
 * (console/headers.mjs sets it).
 */

type Json = Record<string, unknown>;

function escapeHtml(text: string): string {
	return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function pre(value: unknown): string {
	return `<pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;
}

function parametersTable(parameters: Json[]): string {
	if (parameters.length === 0) return "";
	const rows = parameters
		.map(
			(p) =>
				`<tr><td><code>${escapeHtml(String(p.name))}</code></td><td>${escapeHtml(String(p.in))}</td><td>${p.required ? "yes" : "no"}</td><td><code>${escapeHtml(JSON.stringify(p.schema))}</code>${p.description ? ` ${escapeHtml(String(p.description))}` : ""}</td></tr>`,
		)
		.join("");
	return `<table><thead><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function content(label: string, body: Json | undefined): string {
	if (body === undefined) return "";
	const media = (body.content ?? {}) as Record<string, Json>;
	return Object.entries(media)
		.map(([type, m]) => `<details><summary>${escapeHtml(label)} <code>${escapeHtml(type)}</code></summary>${pre(m.schema)}</details>`)
		.join("");
}

function operation(method: string, path: string, op: Json): string {
	const responses = Object.entries((op.responses ?? {}) as Record<string, Json>)
		.map(([status, r]) => `<li><b>${escapeHtml(status)}</b> ${escapeHtml(String(r.description))}${content("body", r)}</li>`)
		.join("");
	return `<section id="${escapeHtml(String(op.operationId))}"><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3><p>${escapeHtml(String(op.summary))}</p>${parametersTable((op.parameters ?? []) as Json[])}${content("request body", op.requestBody as Json | undefined)}<ul>${responses}</ul></section>`;
}

/** The whole page for `document`. */
export function docsPage(document: Json): string {
	const info = document.info as Json;
	const sections = Object.entries(document.paths as Record<string, Record<string, Json>>)
		.flatMap(([path, item]) => Object.entries(item).map(([method, op]) => operation(method, path, op)))
		.join("\n");
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(String(info.title))} API</title><style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d232a}
section{border-top:1px solid #ddd;padding:.5rem 0}h3{margin:.5rem 0;font-size:1rem}
.m{display:inline-block;min-width:4.5rem;font-weight:700}.get{color:#1a7f37}.post{color:#0969da}.patch{color:#9a6700}.delete{color:#cf222e}
table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #ddd;padding:.2rem .4rem;text-align:left;vertical-align:top}
pre{background:#f6f8fa;padding:.5rem;overflow:auto;font-size:.85rem}
</style></head><body><h1>${escapeHtml(String(info.title))} API <small>${escapeHtml(String(info.version))}</small></h1>
<p>${escapeHtml(String(info.description))} The machine-readable document is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Authenticate with <code>Authorization: Bearer &lt;admin token or key secret&gt;</code> or HTTP Basic. Errors are <code>{"error":{"code","message","retriable",…}}</code>.</p>
${sections}
</body></html>`;
}
