/**
 * Names unique within a test run: storage is shared by the tests of a file and by the files of a directory that run in
 * one workerd (vitest.config.ts), so every test makes its own.
 */

let counter = 0;

/** `<prefix>-<n>-<8 random hex>`: unique within the run (the random part), and readable in a failure message. */
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
