/**
 * The OWP language server for the repo contract (`.owp.yml`) and the repo policy
 * (`.owp/policy.yml`): diagnostics as you type (the same checks and words as `owp contract
 * validate` / `owp policy validate`), completion of keys and values, and hover docs drawn from the
 * schema descriptions. Speaks LSP over stdio (`node dist/lsp-server.cjs --stdio`).
 */
import {
  MarkupKind, ProposedFeatures, TextDocumentSyncKind, TextDocuments, createConnection, type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { complete, diagnose, hover, type ContractReader } from './features.ts';

function main(): void {
  const connection = createConnection(ProposedFeatures.all);
  const documents = new TextDocuments(TextDocument);

  connection.onInitialize((): InitializeResult => ({
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      completionProvider: { triggerCharacters: [' ', ':', '[', ',', '-'] },
      hoverProvider: true,
    },
    serverInfo: { name: 'owp-contract-language-server', version: '0.1.0' },
  }));

  documents.onDidChangeContent(({ document }) => {
    void connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics: diagnose(document) });
  });
  documents.onDidClose(({ document }) => {
    void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
  });
  // The contract next to a policy file, for area names: as open in the editor, else from disk.
  const readContract: ContractReader = (uri) => {
    const open = documents.get(uri);
    if (open) return open.getText();
    try {
      return uri.startsWith('file:') ? readFileSync(fileURLToPath(uri), 'utf8') : undefined;
    } catch {
      return undefined;
    }
  };
  connection.onCompletion(({ textDocument, position }) => {
    const document = documents.get(textDocument.uri);
    return document ? complete(document, document.offsetAt(position), readContract) : [];
  });
  connection.onHover(({ textDocument, position }) => {
    const document = documents.get(textDocument.uri);
    const value = document ? hover(document, document.offsetAt(position)) : undefined;
    return value ? { contents: { kind: MarkupKind.Markdown, value } } : null;
  });

  documents.listen(connection);
  connection.listen();
}

main();
