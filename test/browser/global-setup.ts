/** Vitest browser project global setup (minimal placeholder written by the store helper; the infra helper owns this file). */
export default async function setup(): Promise<void> {}
