/**
 * The dashboard webview's page: the dashboard's own page shell (media/dashboard/shell.ts, the
 * same one the coordinator serves) with the webview's policy in a meta tag. Styles and images
 * come only from the webview's resource origin, network access goes only to the coordinator
 * (HTTP and its socket.io WebSocket), and the coordinator URL and token reach the bundle as
 * escaped data attributes on its nonce'd script.
 */
import { coordinatorOrigins, dashboardCsp, dashboardPageHtml } from '../../media/dashboard/shell.ts';

export interface DashboardPage {
  nonce: string;
  /** webview.cspSource */
  cspSource: string;
  coordinatorUrl: string;
  token?: string;
  /** Absent when the bundle is not in this build: the page then says so. */
  scriptUrl: string | undefined;
  styleUrl: string | undefined;
}

export function webviewCsp(page: Pick<DashboardPage, 'nonce' | 'cspSource' | 'coordinatorUrl'>): string {
  return dashboardCsp({ nonce: page.nonce, assetSource: page.cspSource, connectSources: coordinatorOrigins(page.coordinatorUrl), delivery: 'meta' });
}

export function dashboardHtml(page: DashboardPage): string {
  return dashboardPageHtml({
    nonce: page.nonce,
    scriptUrl: page.scriptUrl,
    styleUrl: page.styleUrl,
    metaCsp: webviewCsp(page),
    coordinatorUrl: page.coordinatorUrl,
    ...(page.token ? { token: page.token } : {}),
  });
}
