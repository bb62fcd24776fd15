/**
 * Starts the OWP language server (dist/lsp-server.cjs) for `.owp.yml` and `.owp/policy.yml`:
 * diagnostics as you type, completion and hover. The extension's activate() calls
 * `registerContractLanguage(context)`; the client stops with the extension.
 */
import type * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { CONTRACT_FILE_GLOB, CONTRACT_LANGUAGE_ID, POLICY_FILE_GLOB, POLICY_LANGUAGE_ID } from '../lsp/language-ids.ts';

export const CONTRACT_LANGUAGE_CLIENT_ID = 'owp.contractLanguage';

export function registerContractLanguage(context: vscode.ExtensionContext): void {
  const module = context.asAbsolutePath('dist/lsp-server.cjs');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.stdio },
    debug: { module, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    // By language id, and by path for files another extension (e.g. YAML) has claimed.
    documentSelector: [
      { language: CONTRACT_LANGUAGE_ID },
      { language: POLICY_LANGUAGE_ID },
      { scheme: 'file', pattern: CONTRACT_FILE_GLOB },
      { scheme: 'file', pattern: POLICY_FILE_GLOB },
    ],
  };
  const client = new LanguageClient(CONTRACT_LANGUAGE_CLIENT_ID, 'OWP contract and policy', serverOptions, clientOptions);
  context.subscriptions.push({ dispose: () => void client.stop() });
  void client.start();
}
