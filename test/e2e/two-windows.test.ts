/**
 * Two editor windows as two workers with different skills and capacity, driven through the UI:
 * each is offered only tasks it qualifies for, two tasks in one area are never leased at once,
 * and when one window closes its lease expires and the task is offered to the other window.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { JournalEvent } from '../../protocol/journal-events.ts';
import { eventually, PoolWorld, sameAreaOverlaps, type VolunteerWindow } from './pool-world.ts';
import { currentBranch } from './seeded-repo.ts';

const HEARTBEAT_TIMEOUT_MS = 4000;

// Alice writes docs and takes one small task at a time; Bob also writes tests and has room for more.
const ALICE = { name: 'alice', login: 'alice-docs', skills: ['docs'], capacity: 1, githubToken: 'ghp_aliceE2eToken000000000000000000000002' };
const BOB = { name: 'bob', login: 'bob-tests', skills: ['docs', 'tests'], capacity: 3, githubToken: 'ghp_bobE2eToken00000000000000000000000003' };

const GUIDE_TYPO = { title: 'Fix a typo in the guide', body: 'docs/guide.md says "buidl".', area: 'docs', tier: 0, effort: 1, skills: ['docs'], priority: 10 };
const RELEASE_DOCS = { title: 'Document the release steps', body: 'Nobody knows how to release.', area: 'docs', tier: 0, effort: 1, skills: ['docs'], priority: 5 };
const CHECK_TEST = { title: 'Test the README check', body: 'scripts/check.mjs has no test.', area: 'tests', tier: 0, effort: 2, skills: ['tests'], priority: 0 };
const TASKS = [GUIDE_TYPO, RELEASE_DOCS, CHECK_TEST];

let world: PoolWorld;
let alice: VolunteerWindow;
let bob: VolunteerWindow;
const workerIds = new Map<string, string>();

before(async () => {
  world = await PoolWorld.start({
    suite: 'two-windows',
    repoSettings: { max_open_prs: 5, max_new_prs_per_hour: 20, heartbeat_timeout_ms: HEARTBEAT_TIMEOUT_MS, offer_timeout_ms: 120_000 },
    tasks: TASKS,
    volunteers: [ALICE, BOB],
  });
  [alice, bob] = await Promise.all([world.openWindow('alice'), world.openWindow('bob')]);
});

after(async () => {
  await world?.close();
});

async function join(window: VolunteerWindow): Promise<string> {
  const wb = window.workbench;
  await wb.openViewContainer('OWP');
  await wb.widenSidebar(520);
  await wb.clickWelcomeButton('Offers & tasks', 'Join pool');
  await wb.waitForNotification(/joined the pool/);
  const workerId = await eventually(`${window.volunteer.login}'s worker registered`, async () => {
    const { workers } = await world.coordinator.admin.call('worker.list', {});
    return workers.find((w) => w.github_login === window.volunteer.login && w.online)?.id;
  });
  workerIds.set(window.volunteer.name, workerId);
  return workerId;
}

async function acceptOfferFor(window: VolunteerWindow, title: string): Promise<void> {
  const id = world.taskId(title);
  const offer = new RegExp(`OWP offer: ${id}\\b`);
  await window.workbench.waitForNotification(offer);
  await window.workbench.screenshot(`offer-${id}`);
  await window.workbench.clickNotificationButton(offer, /^Accept$/);
  await eventually(`${window.volunteer.name} holds ${id}`, async () => {
    const task = await world.task(id);
    return task.lease?.worker_id === workerIds.get(window.volunteer.name) && task.state === 'in_progress';
  });
  await eventually(`${id}'s branch checked out in ${window.volunteer.name}'s clone`, async () => (await currentBranch(window.checkout)).startsWith(`owp/${id}-`));
}

function areaOf(taskId: string): string | undefined {
  return TASKS.find((task) => world.taskIds.get(task.title) === taskId)?.area;
}

function offersTo(events: JournalEvent[], workerId: string): string[] {
  return events.filter((e) => e.type === 'offer.created' && e.worker_id === workerId).map((e) => e.task_id as string);
}

test('3. two windows with different skills and capacity each get only tasks they qualify for; one area is never leased twice', () =>
  world.step('two-workers', async () => {
    await join(alice);
    await acceptOfferFor(alice, GUIDE_TYPO.title);

    await join(bob);
    // The other docs task waits for the docs area; Bob is offered the tests task, which Alice could not take.
    await acceptOfferFor(bob, CHECK_TEST.title);

    const releaseDocs = await world.coordinator.admin.call('task.explain', { task_id: world.taskId(RELEASE_DOCS.title) });
    assert.equal(releaseDocs.offerable, false);
    assert.ok(releaseDocs.reasons.some((r) => r.code === 'area_locked'), JSON.stringify(releaseDocs.reasons));

    const events = await world.journal();
    const aliceOffers = offersTo(events, workerIds.get('alice') as string);
    assert.ok(aliceOffers.length > 0);
    for (const taskId of aliceOffers) {
      const task = await world.task(taskId);
      assert.ok(task.skills.every((s) => ALICE.skills.includes(s)) && task.effort <= ALICE.capacity, `alice was offered ${taskId} (${task.skills.join(', ')}, effort ${task.effort})`);
    }
    assert.ok(!aliceOffers.includes(world.taskId(CHECK_TEST.title)), 'alice never offered the tests task');
    assert.deepEqual(sameAreaOverlaps(events, areaOf), [], 'no two leases in one area at once');

    await alice.workbench.expandView('My work');
    await alice.workbench.waitForTreeRow('My work', world.taskId(GUIDE_TYPO.title));
    await alice.workbench.screenshot('holding-docs');
    await bob.workbench.expandView('My work');
    await bob.workbench.waitForTreeRow('My work', world.taskId(CHECK_TEST.title));
    await bob.workbench.screenshot('holding-tests');
  }));

test('5. closing a window stops its heartbeats: its lease expires and the task is offered to the other window', () =>
  world.step('window-closed', async () => {
    const guideTypo = world.taskId(GUIDE_TYPO.title);
    await world.closeWindow('alice');

    await eventually(
      `${guideTypo}'s lease expired`,
      async () => (await world.journal()).some((e) => e.type === 'lease.expired' && e.task_id === guideTypo && e.worker_id === workerIds.get('alice')),
      HEARTBEAT_TIMEOUT_MS * 5,
    );
    // Bob has 1 free point after the tests task; the requeued docs task fits him.
    await acceptOfferFor(bob, GUIDE_TYPO.title);
    // Bob's Chat input now holds the prompt of the task he just took, not the one before.
    const prompt = await bob.workbench.waitForChatInput(`OWP task ${guideTypo} `);
    assert.ok(prompt.includes(GUIDE_TYPO.title), prompt);
    await bob.workbench.screenshot('took-over');

    const events = await world.journal();
    assert.deepEqual(sameAreaOverlaps(events, areaOf), [], 'no two leases in one area at once');
    const releaseDocs = await world.task(world.taskId(RELEASE_DOCS.title));
    assert.equal(releaseDocs.state, 'ready', 'the other docs task still waits for the area');
  }));
