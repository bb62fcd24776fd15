/**
 * Every id the extension shares with its manifest or with other extensions: commands, views,
 * context keys, settings, storage keys and the commands we call elsewhere. package.json uses the
 * same strings; `test/unit/extension-manifest.test.ts` checks the two agree. No vscode import here,
 * so the pure logic can use these ids too.
 */
export const COMMANDS = {
  joinPool: 'owp.joinPool',
  leavePool: 'owp.leavePool',
  acceptOffer: 'owp.acceptOffer',
  declineOffer: 'owp.declineOffer',
  claimTask: 'owp.claimTask',
  openInAiTool: 'owp.openInAiTool',
  submitPr: 'owp.submitPr',
  releaseLease: 'owp.releaseLease',
  markBlocked: 'owp.markBlocked',
  openDashboard: 'owp.openDashboard',
  refresh: 'owp.refresh',
  setGithubToken: 'owp.setGithubToken',
  setMaintainerToken: 'owp.setMaintainerToken',
  showOutput: 'owp.showOutput',
  showTask: 'owp.showTask',
} as const;

/** The read-only documents that show a task's details (its issue text, escaped) when a tree item is clicked. */
export const TASK_DETAILS_SCHEME = 'owp-task';

export const VIEW_CONTAINER = 'owp';
export const STATUS_BAR_ITEM = 'owp.status';
export const DASHBOARD_PANEL = 'owp.dashboard';
export const VIEWS = {
  offers: 'owp.offers',
  work: 'owp.work',
} as const;

/** `when` clause context keys. */
export const CONTEXT_KEYS = {
  joined: 'owp.joined',
} as const;

/** The first-time walkthrough (package.json contributes.walkthroughs) and the steps the extension marks done itself. */
export const WALKTHROUGH = {
  id: 'owp.firstTask',
  steps: { join: 'join', offer: 'offer', work: 'work', submit: 'submit', submitted: 'submitted' },
} as const;

/** Tree item contextValues, matched by `viewItem == …` in the manifest's menus. */
export const TREE_ITEM_KINDS = {
  repo: 'repo',
  offer: 'offer',
  task: 'task',
  lease: 'lease',
  /** A lease whose PR submission is running: no second Submit. */
  leaseBusy: 'leaseBusy',
  /** My work's Submitted group and its PR rows (with or without a safe link to the PR). */
  submittedGroup: 'submittedGroup',
  submittedPr: 'submittedPr',
  submittedPrNoLink: 'submittedPrNoLink',
} as const;

export const SETTINGS_SECTION = 'owp';
export const SETTINGS = {
  coordinatorUrl: 'coordinatorUrl',
  githubLogin: 'githubLogin',
  skills: 'skills',
  capacity: 'capacity',
  aiTool: 'aiTool',
  githubApiUrl: 'githubApiUrl',
  pushTarget: 'pushTarget',
} as const;

export const DEFAULT_COORDINATOR_URL = 'http://127.0.0.1:8787';
export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';
export const OUTPUT_CHANNEL_NAME = 'OWP';

/** workspaceState keys (per window/workspace) and SecretStorage key prefixes. */
export const STORAGE_KEYS = {
  identity: 'owp.identity',
  workNotes: 'owp.workNotes',
  workspaceId: 'owp.workspaceId',
  workerTokenPrefix: 'owp.workerToken.',
  githubToken: 'owp.githubToken',
  maintainerToken: 'owp.maintainerToken',
  /** globalState: repository → approved contract-command hashes (client/command-approval.ts). */
  approvedCommands: 'owp.approvedCommands',
} as const;

/**
 * Commands of VS Code and its built-in extensions that we call. The AI tools' chat commands (VS
 * Code's chat, Cursor's composer) belong to the tool registry, client/ai-tools.ts.
 */
export const EXTERNAL_COMMANDS = {
  manageTrust: 'workbench.trust.manage',
  openSettings: 'workbench.action.openSettings',
  showView: 'workbench.view.extension.owp',
  setContext: 'setContext',
  markdownPreview: 'markdown.showPreview',
  gitClone: 'git.clone',
  /** The Welcome page's own command; takes `<extension id>#<walkthrough id>#<step id>`. */
  markStepComplete: 'welcome.markStepComplete',
} as const;

export const GIT_EXTENSION_ID = 'vscode.git';
export const GITHUB_AUTH_PROVIDER = 'github';
export const GITHUB_ENTERPRISE_AUTH_PROVIDER = 'github-enterprise';
/** `public_repo` serves public repositories (logic/secret-binding.ts githubScopes); `repo` would reach every private one too. */
export const GITHUB_SCOPES = ['public_repo'];
