export interface PeerResults {
  results: Record<string, Record<string, unknown>>;
  notes: string[];
  detail?: Record<string, unknown>;
}
export async function runPeers(_o: { quick: boolean; root: string; workDir: string; log: (l: string) => void }): Promise<PeerResults> {
  return { results: {}, notes: [] };
}
