/**
 * Names unique within a test file: storage is isolated per file, not per test, so every test makes its own.
 */

let counter = 0;

/** `<prefix>-<n>-<8 random hex>`: unique within the file, and readable in a failure message. */
export function uniqueName(prefix: string): string {
	counter++;
	return `${prefix}-${counter}-${crypto.randomUUID().slice(0, 8)}`;
}

export function uniqueTopic(prefix = "t"): string {
	return uniqueName(prefix);
}

export function uniqueGroup(prefix = "g"): string {
	return uniqueName(prefix);
}
