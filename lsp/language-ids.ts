/**
 * The language ids and file patterns of the two OWP files, shared by the language server and the
 * extension's language client (the extension's package.json declares the same ids and patterns).
 */
export const CONTRACT_LANGUAGE_ID = 'owp-contract';
export const POLICY_LANGUAGE_ID = 'owp-policy';

export const CONTRACT_FILE_GLOB = '**/.owp.yml';
export const POLICY_FILE_GLOB = '**/.owp/policy.yml';
