/**
 * "OWP: Open Dashboard": the coordinator's live dashboard bundle in a webview. CSP `default-src
 * 'none'`, scripts only with a fresh nonce, resources only from our dist/media, network only to
 * the coordinator. The coordinator URL and an optional maintainer token go in as data attributes.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { DASHBOARD_PANEL, STORAGE_KEYS } from './constants.ts';
import { dashboardHtml } from './logic/dashboard-html.ts';
import { secretFor } from './logic/secret-binding.ts';
import { readSettings } from './settings.ts';

let current: vscode.WebviewPanel | undefined;

export async function openDashboard(context: vscode.ExtensionContext): Promise<void> {
  const mediaRoot = vscode.Uri.joinPath(context.extensionUri, 'dist', 'media');
  const coordinatorUrl = readSettings().coordinatorUrl;
  const saved = secretFor(await context.secrets.get(STORAGE_KEYS.maintainerToken), coordinatorUrl, 'maintainer token');
  if (saved && 'refused' in saved) void vscode.window.showWarningMessage(`OWP: ${saved.refused} The dashboard opens without it.`);
  const token = saved && 'token' in saved ? saved.token : undefined;
  if (!current) {
    current = vscode.window.createWebviewPanel(DASHBOARD_PANEL, 'OWP Dashboard', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [mediaRoot],
      retainContextWhenHidden: false,
    });
    current.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'owp-activity.svg');
    current.onDidDispose(() => (current = undefined), undefined, context.subscriptions);
  } else {
    current.reveal();
  }
  const webview = current.webview;
  const scriptFile = vscode.Uri.joinPath(mediaRoot, 'dashboard.js');
  const styleFile = vscode.Uri.joinPath(mediaRoot, 'dashboard.css');
  webview.html = dashboardHtml({
    nonce: randomBytes(18).toString('base64'),
    cspSource: webview.cspSource,
    coordinatorUrl,
    ...(token ? { token } : {}),
    scriptUrl: existsSync(scriptFile.fsPath) ? webview.asWebviewUri(scriptFile).toString() : undefined,
    styleUrl: existsSync(styleFile.fsPath) ? webview.asWebviewUri(styleFile).toString() : undefined,
  });
}
