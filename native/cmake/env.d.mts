// Types for tests that import env.mjs's environment rule.
export function buildEnv(base?: Record<string, string | undefined>): Record<string, string | undefined>;
