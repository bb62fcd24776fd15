/**
 * One editor window in the browser, used as a person uses it: activity bar, views and their
 * welcome buttons, the command palette (F1 and typing), input boxes, notifications, the Chat
 * view's input. Screenshots go to .artifacts/e2e/<suite>/; a failed step also saves the screen,
 * the extension's output channel and code-server's log there.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, FrameLocator, Locator, Page } from 'playwright-core';
import { ARTIFACTS_DIR, type EditorServer } from './harness.ts';

const WORKBENCH_TIMEOUT_MS = 90_000;
/**
 * Every click, fill and wait without its own timeout gives up after this long, with the locator in
 * the error, instead of hanging until the test runner's 600 s timeout.
 */
const ACTION_TIMEOUT_MS = 30_000;
/** How long the palette gets to show a focused, live input after F1 before F1 is pressed again. */
const PALETTE_OPEN_MS = 5_000;

const QUICK_INPUT = '.quick-input-widget';
const QUICK_INPUT_BOX = '.quick-input-widget .quick-input-box input';

/** Monaco renders spaces as no-break spaces and lines as separate nodes. */
export function plainText(text: string): string {
  return text.replace(/\u00a0/g, ' ');
}

export class Workbench {
  readonly page: Page;
  readonly server: EditorServer;
  private readonly context: BrowserContext;
  private readonly artifacts: string;
  private shotCounter = 0;

  private constructor(context: BrowserContext, page: Page, server: EditorServer, suite: string) {
    this.context = context;
    this.page = page;
    this.server = server;
    this.artifacts = join(ARTIFACTS_DIR, suite);
    mkdirSync(this.artifacts, { recursive: true });
  }

  static async open(browser: Browser, server: EditorServer, suite: string): Promise<Workbench> {
    // Reduced motion: VS Code then skips most animations (the workbench setting says the same),
    // so fewer widgets are caught half-way through opening or closing.
    const context = await browser.newContext({ viewport: { width: 1600, height: 960 }, permissions: ['clipboard-read', 'clipboard-write'], reducedMotion: 'reduce' });
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    const page = await context.newPage();
    const workbench = new Workbench(context, page, server, suite);
    await page.goto(`${server.url}/?folder=${encodeURIComponent(server.workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: WORKBENCH_TIMEOUT_MS });
    await page.locator('.part.statusbar').waitFor({ timeout: WORKBENCH_TIMEOUT_MS });
    return workbench;
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
  }

  /** Saves the screen as <suite>/<nn>-<name>-<window>.png and returns the path. */
  async screenshot(name: string): Promise<string> {
    this.shotCounter += 1;
    const file = join(this.artifacts, `${String(this.shotCounter).padStart(2, '0')}-${name}-${this.server.name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** Runs `step`; when it fails, saves the screen, the extension's output and the editor log first. */
  async step<T>(name: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      await this.saveFailure(name).catch(() => undefined);
      throw error;
    }
  }

  async saveFailure(name: string): Promise<void> {
    const base = join(this.artifacts, `FAILED-${name}-${this.server.name}`);
    await this.page.screenshot({ path: `${base}.png` }).catch(() => undefined);
    writeFileSync(`${base}.code-server.log`, this.server.log());
    for (const log of this.extensionLogs()) copyFileSync(log.path, `${base}.${log.name}`);
  }

  /** Output channels the extension host wrote to disk (every channel is logged there). */
  extensionLogs(): Array<{ name: string; path: string }> {
    const found: Array<{ name: string; path: string }> = [];
    const walk = (dir: string): void => {
      if (!existsSync(dir)) return;
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) walk(path);
        else if (entry.endsWith('.log') && (dir.includes('output_logging') || /exthost/.test(path))) found.push({ name: entry, path });
      }
    };
    walk(join(this.server.userDataDir, 'logs'));
    return found;
  }

  /** The text of the extension output channel whose name contains `channel`, read from its log file. */
  outputChannel(channel: string): string {
    return this.extensionLogs()
      .filter((log) => log.name.includes(channel))
      .map((log) => readFileSync(log.path, 'utf8'))
      .join('\n');
  }

  // ---- activity bar and views ----

  /** Opens a view container from the activity bar by its title ("OWP"). */
  async openViewContainer(title: string): Promise<void> {
    const item = this.page.locator(`.part.activitybar .action-item a[aria-label^="${title}"], .part.activitybar .action-item [aria-label^="${title}"]`).first();
    await item.waitFor({ timeout: WORKBENCH_TIMEOUT_MS });
    const expanded = await item.locator('xpath=..').getAttribute('aria-expanded').catch(() => null);
    const checked = await item.getAttribute('aria-checked').catch(() => null);
    if (expanded !== 'true' && checked !== 'true') await item.click();
    await this.page.locator('.part.sidebar').waitFor();
  }

  /** Drags the side bar's right edge so tree rows show their descriptions (area, tier, effort) in full. */
  async widenSidebar(width: number): Promise<void> {
    await this.dragPartEdge('.part.sidebar', 'right', width);
  }

  /** Drags the secondary side bar's left edge so more of the Chat input shows. */
  async widenChat(width: number): Promise<void> {
    await this.dragPartEdge('.part.auxiliarybar', 'left', width);
  }

  private async dragPartEdge(part: string, edge: 'left' | 'right', width: number): Promise<void> {
    const box = await this.page.locator(part).boundingBox();
    if (!box || box.width >= width) return;
    const boundary = edge === 'right' ? box.x + box.width : box.x;
    const target = edge === 'right' ? box.x + width : box.x + box.width - width;
    const y = box.y + box.height / 2;
    // Grab the sash nearest that edge (parts have margins, so the sash is not exactly at the edge).
    const sashes = await this.page.locator('.monaco-sash.vertical').evaluateAll((elements) =>
      elements.map((element) => {
        const rect = element.getBoundingClientRect();
        return { x: rect.x + rect.width / 2, top: rect.y, bottom: rect.y + rect.height };
      }),
    );
    const nearest = sashes.filter((sash) => sash.top <= y && sash.bottom >= y).sort((a, b) => Math.abs(a.x - boundary) - Math.abs(b.x - boundary))[0];
    const x = nearest && Math.abs(nearest.x - boundary) < 20 ? nearest.x : boundary;
    await this.page.mouse.move(x, y);
    await this.page.mouse.down();
    await this.page.mouse.move((x + target) / 2, y, { steps: 4 });
    await this.page.mouse.move(target, y, { steps: 4 });
    await this.page.mouse.up();
    await this.clearHover();
  }

  /** The pane of a view in the side bar, by its title ("Offers & tasks"). */
  view(title: string): Locator {
    return this.page.locator('.part.sidebar .pane').filter({ has: this.page.locator('.pane-header', { hasText: title }) }).first();
  }

  /** Expands a collapsed view pane. */
  async expandView(title: string): Promise<Locator> {
    const pane = this.view(title);
    const header = pane.locator('.pane-header').first();
    // A container with a single view hides that view's header; such a view is always expanded.
    await header.waitFor({ state: 'attached', timeout: WORKBENCH_TIMEOUT_MS });
    if ((await header.getAttribute('aria-expanded')) === 'false' && (await header.isVisible())) await header.click();
    return pane;
  }

  /** Clicks a button in a view's welcome content ("Join pool"). */
  async clickWelcomeButton(viewTitle: string, label: string | RegExp): Promise<void> {
    const pane = await this.expandView(viewTitle);
    await pane.locator('.welcome-view-content .monaco-button', { hasText: label }).first().click();
  }

  /** The rows of a view's tree as text, each row's label and description. */
  async treeRows(viewTitle: string): Promise<string[]> {
    const pane = this.view(viewTitle);
    // Label and description are adjacent spans; innerText would glue them together.
    const rows = await pane.locator('.monaco-list-row').evaluateAll((elements) =>
      elements.map((row) => Array.from(row.querySelectorAll('.label-name, .label-description')).map((part) => part.textContent ?? '').join(' ') || (row.textContent ?? '')),
    );
    return rows.map((row) => plainText(row).replace(/\s+/g, ' ').trim());
  }

  /** Waits until a tree row in the view matches, and returns it. */
  async waitForTreeRow(viewTitle: string, match: string | RegExp, timeoutMs = 60_000): Promise<Locator> {
    const row = this.view(viewTitle).locator('.monaco-list-row', { hasText: match }).first();
    await row.waitFor({ timeout: timeoutMs });
    return row;
  }

  /** Clicks an inline action (hover button) on a tree row, by its title ("Accept"). */
  async clickRowAction(row: Locator, action: string): Promise<void> {
    await row.hover();
    await row.locator(`.actions .action-label[aria-label^="${action}"], .actions .action-label[title^="${action}"]`).first().click();
  }

  // ---- commands and inputs ----

  /**
   * Runs a command from the palette as a person would: F1, type its title, click it. Returns once
   * the palette has gone: closed, or replaced by the command's own input box (then answer it with
   * answerQuickInput). The palette animates closed for about 150 ms with the widget marked inert,
   * and keys pressed meanwhile are lost, so the next F1 must not race that. The palette also closes
   * when focus moves away (after a layout change a webview or editor takes focus a moment later);
   * when it closed before the command was picked, it is opened again, as a person would.
   */
  async runCommand(title: string): Promise<void> {
    const row = this.page.locator(`${QUICK_INPUT} .quick-input-list .monaco-list-row`, { hasText: title }).first();
    for (let attempt = 1; ; attempt += 1) {
      await this.dismissQuickInput();
      const input = await this.openPalette();
      try {
        await input.fill(`>${title}`, { timeout: 5000 });
        await row.waitFor({ timeout: 15_000 });
        await row.click({ timeout: 5000 });
        break;
      } catch (error) {
        const stillOpen = await this.page.locator(QUICK_INPUT_BOX).isVisible().catch(() => false);
        // Open and showing no such command: a real failure. Closed under us: try again.
        if (stillOpen || attempt >= 3) throw new Error(`Running "${title}" from the command palette failed (attempt ${attempt}, palette ${stillOpen ? 'open' : 'closed'}): ${(error as Error).message}`);
      }
    }
    await this.page.waitForFunction(
      ({ widget, box, typed }) => {
        const w = document.querySelector<HTMLElement>(widget);
        const i = document.querySelector<HTMLInputElement>(box);
        // Closed (display: none once its animation ends), or showing something other than our palette query.
        if (!w || w.getClientRects().length === 0 || getComputedStyle(w).visibility === 'hidden') return true;
        return !w.closest('[inert]') && !w.hasAttribute('inert') && i !== null && i.value !== typed;
      },
      { widget: QUICK_INPUT, box: QUICK_INPUT_BOX, typed: `>${title}` },
      { timeout: 15_000 },
    );
  }

  /** Presses F1 until the palette's input is shown, live (not inert) and focused; one retry. */
  private async openPalette(): Promise<Locator> {
    for (let attempt = 1; ; attempt += 1) {
      await this.page.keyboard.press('F1');
      try {
        return await this.liveQuickInput(PALETTE_OPEN_MS);
      } catch (error) {
        if (attempt >= 2) throw new Error(`The command palette did not open with a live, focused input after F1 (twice): ${(error as Error).message}`);
        await this.dismissQuickInput();
      }
    }
  }

  /**
   * The quick input's text box once a person could type into it: visible, not inside an inert
   * (closing) widget, and focused. Waits for that, up to timeoutMs.
   */
  async liveQuickInput(timeoutMs = ACTION_TIMEOUT_MS): Promise<Locator> {
    await this.page.waitForFunction(
      (box) => {
        const input = document.querySelector<HTMLInputElement>(box);
        if (!input || input.getClientRects().length === 0) return false;
        if (input.closest('[inert]')) return false;
        return document.activeElement === input;
      },
      QUICK_INPUT_BOX,
      { timeout: timeoutMs },
    );
    return this.page.locator(QUICK_INPUT_BOX);
  }

  /** Waits until the quick input has finished closing (hidden, so its animation is over). */
  async waitForQuickInputClosed(timeoutMs = 15_000): Promise<void> {
    await this.page.locator(QUICK_INPUT).waitFor({ state: 'hidden', timeout: timeoutMs });
  }

  /** Answers the open input box (or quick pick filter) with `value`, then Enter, and waits for it to close. */
  async answerQuickInput(value: string): Promise<void> {
    const input = await this.liveQuickInput();
    await input.fill(value);
    await input.press('Enter');
    await this.waitForQuickInputClosed();
  }

  /** Confirms the open quick pick as it is (Enter), e.g. a checklist with every item ticked. */
  async acceptQuickPick(title?: string | RegExp): Promise<void> {
    const widget = this.page.locator(QUICK_INPUT);
    await widget.waitFor({ state: 'visible' });
    if (title) await widget.locator('.quick-input-title', { hasText: title }).waitFor({ timeout: 15_000 });
    const input = await this.liveQuickInput();
    await input.press('Enter');
    await this.waitForQuickInputClosed();
  }

  /** Clicks a button of the modal dialog whose message matches; returns the dialog's text. */
  async clickDialogButton(message: string | RegExp, button: string | RegExp): Promise<string> {
    const dialog = this.page.locator('.monaco-dialog-box', { hasText: message }).first();
    await dialog.waitFor({ timeout: 30_000 });
    const text = plainText(await dialog.innerText());
    await dialog.locator('.dialog-buttons .monaco-button', { hasText: button }).first().click();
    return text;
  }

  /** Closes an open quick input (Escape) and waits until it has finished closing. */
  async dismissQuickInput(): Promise<void> {
    const widget = this.page.locator(QUICK_INPUT);
    if (!(await widget.isVisible().catch(() => false))) return;
    // An inert widget is already closing: Escape would be lost, and is not needed.
    const closing = await widget.evaluate((w) => w.hasAttribute('inert') || w.closest('[inert]') !== null).catch(() => false);
    if (!closing) await this.page.keyboard.press('Escape');
    await this.waitForQuickInputClosed();
  }

  // ---- notifications ----

  /**
   * The notification whose message matches, as a person finds it: a toast, or, once the toast has
   * hidden itself (an information toast does after about 15 s even with buttons), in the
   * notification center opened from the status bar bell.
   */
  async findNotification(message: string | RegExp, timeoutMs = 60_000): Promise<Locator> {
    const deadline = Date.now() + timeoutMs;
    const toast = this.page.locator('.notifications-toasts .notification-toast', { hasText: message }).first();
    const listed = this.page.locator('.notifications-center .notification-list-item', { hasText: message }).first();
    if (await listed.isVisible()) return listed;
    try {
      await toast.waitFor({ timeout: Math.min(10_000, timeoutMs) });
      return toast;
    } catch {
      // Not (or no longer) a toast: look in the notification center, where new ones arrive too.
    }
    await this.runCommand('Notifications: Show Notifications');
    await listed.waitFor({ timeout: Math.max(1000, deadline - Date.now()) });
    return listed;
  }

  async waitForNotification(message: string | RegExp, timeoutMs = 60_000): Promise<string> {
    const found = await this.findNotification(message, timeoutMs);
    return plainText(await found.innerText());
  }

  /** Clicks a button ("Accept") on the notification whose message matches. */
  async clickNotificationButton(message: string | RegExp, button: string | RegExp, timeoutMs = 60_000): Promise<void> {
    const found = await this.findNotification(message, timeoutMs);
    await this.clearHover();
    await found.locator('.monaco-button', { hasText: button }).first().click();
    // Escape is the center's own "Hide Notifications" key.
    if (await this.page.locator('.notifications-center.visible').isVisible()) await this.page.keyboard.press('Escape');
  }

  /**
   * Moves the pointer to an empty corner so no hover card (a long notification's full text, a
   * tree row's tooltip) lies over the next click target.
   */
  async clearHover(): Promise<void> {
    await this.page.mouse.move(1, 1);
    await this.page.locator('.context-view .hover-contents, .workbench-hover').first().waitFor({ state: 'hidden', timeout: 5000 }).catch(() => undefined);
  }

  /** Clears every notification, e.g. before a screenshot of something else. */
  async clearNotifications(): Promise<void> {
    await this.runCommand('Notifications: Clear All Notifications');
    await this.page.locator('.notifications-toasts .notification-toast').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => undefined);
  }

  /** Texts of all notifications, visible or in the notification center's list. */
  async notificationTexts(): Promise<string[]> {
    const texts = await this.page.locator('.notifications-toasts .notification-list-item-message, .notifications-center .notification-list-item-message').allInnerTexts();
    return texts.map(plainText);
  }

  // ---- chat ----

  /**
   * The whole text in the Chat view's input box (what a handoff put there). Monaco renders only the
   * visible, wrapped lines, so read it as a person would copy it: select all, copy, read the clipboard.
   */
  async chatInputText(): Promise<string> {
    const editor = this.page.locator('.interactive-input-part .monaco-editor').first();
    await editor.waitFor({ timeout: 30_000 });
    await this.page.evaluate(() => navigator.clipboard.writeText(''));
    await editor.locator('.view-lines').click();
    await this.page.keyboard.press('Control+A');
    await this.page.keyboard.press('Control+C');
    const text = await this.page.evaluate(() => navigator.clipboard.readText());
    await this.page.keyboard.press('Control+Home');
    return plainText(text);
  }

  /** Waits until the chat input contains `text`. */
  async waitForChatInput(text: string | RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      last = await this.chatInputText().catch(() => '');
      if (typeof text === 'string' ? last.includes(text) : text.test(last)) return last;
      if (Date.now() > deadline) throw new Error(`The chat input never showed ${String(text)}; it shows: ${JSON.stringify(last)}`);
      await this.page.waitForTimeout(250);
    }
  }

  // ---- webviews ----

  /** The content frame of the webview open in an editor tab titled `title`. */
  async webviewFrame(title: string): Promise<FrameLocator> {
    await this.page.locator('.tabs-container .tab', { hasText: title }).first().waitFor({ timeout: 30_000 });
    // A webview is an outer iframe (VS Code's host page) around the extension's content frame.
    const content = this.page.frameLocator('iframe.webview.ready').last().frameLocator('iframe#active-frame');
    await content.locator('body').waitFor({ timeout: 30_000 });
    return content;
  }

  // ---- editor ----

  /** Opens a workspace file through Quick Open (Ctrl+P) and types text at its end. */
  async typeIntoFile(relativePath: string, text: string): Promise<void> {
    const row = this.page.locator(`${QUICK_INPUT} .quick-input-list .monaco-list-row`, { hasText: relativePath.split('/').pop() as string }).first();
    for (let attempt = 1; ; attempt += 1) {
      await this.dismissQuickInput();
      await this.page.keyboard.press('Control+P');
      try {
        const input = await this.liveQuickInput(PALETTE_OPEN_MS);
        await input.fill(relativePath, { timeout: 5000 });
        await row.waitFor({ timeout: 15_000 });
        await input.press('Enter', { timeout: 5000 });
        break;
      } catch (error) {
        // A view taking focus (the Chat view the hand-off opens) closes Quick Open under us: open it again.
        const stillOpen = await this.page.locator(QUICK_INPUT_BOX).isVisible().catch(() => false);
        if (stillOpen || attempt >= 3) throw new Error(`Opening ${relativePath} with Quick Open failed (attempt ${attempt}, ${stillOpen ? 'open' : 'closed'}): ${(error as Error).message}`);
      }
    }
    await this.waitForQuickInputClosed();
    const editor = this.page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
    await editor.click();
    await this.page.keyboard.press('Control+End');
    await this.page.keyboard.type(text);
    await this.page.keyboard.press('Control+S');
  }
}
