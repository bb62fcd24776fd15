/**
 * What a dashboard panel is: one part of the page that owns its DOM (built once, so typing in its
 * forms is never interrupted) and redraws its data from the model. `view.ts` places the panels
 * by name and decides nothing else. All outside text goes through `h()` as text nodes.
 */
import type { DashboardModel } from '../model.ts';

export type ConnectionLabel = 'live' | 'connecting' | 'reconnecting' | 'polling' | 'signed-out' | 'refused' | 'offline';

export interface ViewContext {
  now: number;
  signedIn: boolean;
  /** Nothing is readable without a token: show only the sign-in. */
  locked: boolean;
  hostProvidedToken: boolean;
  connection: ConnectionLabel;
  connectionDetail?: string;
  coordinatorName?: string;
}

export interface DashboardActions {
  signIn(token: string): void;
  signOut(): void;
  createTask(fields: { repo: string; title: string; body: string; area?: string; tier: number; effort: number; skills: string[] }): Promise<string>;
  cancelLease(leaseId: string): Promise<string>;
  unblockTask(taskId: string): Promise<string>;
  configureRepo(repo: string, settings: { max_open_prs: number; max_new_prs_per_hour: number; paused: boolean }): Promise<string>;
  /** Vouches for or denounces a GitHub login in a repo (contributor.vouch / contributor.denounce). */
  setStanding(repo: string, login: string, action: 'vouch' | 'denounce', reason: string | undefined): Promise<string>;
}

export interface Panel {
  readonly element: HTMLElement;
  /** Whether the panel shows in this context; hidden panels are not redrawn. */
  shown(ctx: ViewContext): boolean;
  render(model: DashboardModel, ctx: ViewContext): void;
}

/** What panels may ask of the page around them. */
export interface PanelHost {
  readonly actions: DashboardActions;
  /** Runs a maintainer action and shows its outcome (or its error) in the notice line. */
  run(action: () => Promise<string>): Promise<void>;
  requestRender(): void;
}

/** The data panels show whenever the pool is readable, i.e. not before a token on a coordinator that requires one. */
export const whenReadable = (ctx: ViewContext): boolean => !ctx.locked;
