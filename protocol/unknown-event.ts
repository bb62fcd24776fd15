/**
 * The default branch of a switch that names every journal event type: the compiler makes it
 * unreachable, so a new type does not compile until each such switch has its case. At run time a
 * reader skips an event of a type it does not know yet (one written by a newer coordinator).
 * Its own module, without schemas, so the dashboard bundle can use it.
 */
export function skipUnknownEvent(_event: never): void {}
