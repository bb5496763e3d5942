/**
 * The organisation of this installation. Every table is org-scoped so that one database could hold several,
 * but an installation serves one today: the first admin, the environment's API key and chat providers (a
 * Slack workspace or Discord application is not yet mapped to an org) all belong to this one.
 */
export const DEFAULT_ORG_ID = 1;
