/**
 * The bound on a test's wait for something it caused (a rebalance followed, a request sent, a wait begun), given to
 * `expect.poll` and `vi.waitFor` in place of their default of 1 s: a bound on a hung wait, not a measure. Such an
 * event comes within milliseconds on an idle machine, but on a loaded one (the files of a directory share a workerd,
 * a few cores are shared with other work) a Durable Object's round trip can take seconds. Success returns at the first
 * poll that sees it; the bound stays inside the tests' own timeouts (20 s and more), so a hung wait fails with what it
 * waited for.
 */
export const UNTIL_SEEN = { timeout: 15_000, interval: 10 };
