/**
 * @module
 * How the edge reaches a topic's `WebhookDispatcher`: one object per topic id, so a deleted and re-created
 * topic starts with no subscriptions.
 */

export function webhookDispatcher(env: Env, topicId: string): DurableObjectStub<import("./webhook-dispatcher.ts").WebhookDispatcher> {
	return env.WEBHOOK_DISPATCHER.getByName(topicId);
}
