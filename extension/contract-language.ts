/**
 * Starts the OWP language server (dist/lsp-server.cjs) for `.owp.yml` and `.owp/policy.yml`:
 * diagnostics as you type, completion and hover. The extension's activate() calls
 * `registerContractLanguage(context)`; the client stops with the extension.
 */
import type * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { CONTRACT_FILE_GLOB, CONTRACT_LANGUAGE_ID, POLICY_FILE_GLOB, POLICY_LANGUAGE_ID } from '../lsp/language-ids.ts';

export const CONTRACT_LANGUAGE_CLIENT_ID = 'owp.contractLanguage';

/**
 * Starts the language server the first time a contract or policy file is open, so windows without
 * one never spawn it (activation stays cheap).
 */
export function registerContractLanguage(context: vscode.ExtensionContext, workspace: typeof vscode.workspace): void {
  const isOwpFile = (doc: vscode.TextDocument): boolean => doc.uri.scheme === 'file' && /(^|[\\/])(\.owp\.yml|\.owp[\\/]policy\.yml)$/.test(doc.uri.fsPath);
  let started = false;
  const startOnce = (doc: vscode.TextDocument): void => {
    if (started || !isOwpFile(doc)) return;
    started = true;
    startContractLanguageClient(context);
  };
  workspace.textDocuments.forEach(startOnce);
  context.subscriptions.push(workspace.onDidOpenTextDocument(startOnce));
}

function startContractLanguageClient(context: vscode.ExtensionContext): void {
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
