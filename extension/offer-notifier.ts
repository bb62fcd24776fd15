/**
 * Tells the volunteer what the pool did: new offers (Accept / Decline with the deadline), leases
 * that ended from the coordinator's side, and a token the coordinator no longer accepts.
 */
import * as vscode from 'vscode';
import { COMMANDS } from './constants.ts';
import type { Lease, Offer } from '../protocol/model.ts';
import type { PoolSession } from './logic/pool-session.ts';
import { offerNotificationText } from './logic/view-models.ts';
import type { WorkNotes } from './work-notes.ts';

export function watchPoolEvents(session: PoolSession, notes: WorkNotes, output: vscode.OutputChannel): vscode.Disposable {
  const offerListener = (offer: Offer): void => {
    output.appendLine(`[${new Date().toISOString()}] offer ${offer.offer_id}: ${offer.task_id} in ${offer.repo}`);
    const accept = 'Accept';
    const decline = 'Decline';
    void vscode.window.showInformationMessage(offerNotificationText(offer, Date.now()), accept, decline).then((choice) => {
      if (choice === accept) void vscode.commands.executeCommand(COMMANDS.acceptOffer, offer.offer_id);
      if (choice === decline) void vscode.commands.executeCommand(COMMANDS.declineOffer, offer.offer_id);
    });
  };
  const lostListener = ({ lease, reason }: { lease: Lease; reason: string }): void => {
    output.appendLine(`[${new Date().toISOString()}] lease ${lease.lease_id} on ${lease.task_id} ended: ${reason}`);
    void notes.forget(lease.task_id);
    void vscode.window.showWarningMessage(`OWP: your lease on ${lease.task_id} ended (${reason}). The task went back to the pool; stop work on it. Your local branch stays.`);
  };
  const rejectedListener = (): void => {
    void vscode.window.showErrorMessage('OWP: the coordinator no longer accepts this window\'s worker token (revoked, or the pool was reset). Join the pool again.', 'Join pool').then((choice) => {
      if (choice) void vscode.commands.executeCommand(COMMANDS.joinPool);
    });
  };
  const problemListener = (message: string): void => output.appendLine(`[${new Date().toISOString()}] ${message}`);
  session.on('offer', offerListener);
  session.on('lease.lost', lostListener);
  session.on('token.rejected', rejectedListener);
  session.on('problem', problemListener);
  return new vscode.Disposable(() => {
    session.off('offer', offerListener);
    session.off('lease.lost', lostListener);
    session.off('token.rejected', rejectedListener);
    session.off('problem', problemListener);
  });
}
