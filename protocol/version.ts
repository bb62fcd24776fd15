/** The protocol version this code speaks. Peers exchange it in `session.hello`. */
export const PROTOCOL_VERSION = '0.1';

/** Versions this implementation accepts from a peer (same major.minor for 0.x, per SPEC §9). */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = ['0.1'];
