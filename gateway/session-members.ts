// Who is in a session, on top of the registry's replicas: joining through an invite (a host link
// opens once), new links, removal, and the lookups by participant token and one-time ticket.

import type { Role } from '../protocol/messages.js';
import { GatewayError, stateUnavailable } from './errors.js';
import type { Logger } from './log.js';
import { Participant, type RegistryLimits, type RemovalListener, type Session } from './session.js';
import type { SessionRegistry } from './session-registry.js';
import type { StateBackend } from './state/store.js';
import { newParticipantId, newSecret } from './tokens.js';

/** Colors given to participants in turn. */
const COLORS = ['#e8590c', '#1c7ed6', '#2f9e44', '#ae3ec9', '#f08c00', '#0c8599', '#d6336c', '#5c7cfa'];

/** What of the registry membership changes use: its replicas, and telling the other nodes. */
type Replicas = Pick<SessionRegistry, 'load' | 'refresh' | 'announce' | 'get' | 'shared' | 'nodeId'>;

export class SessionMembers {
  private readonly removalListeners: RemovalListener[] = [];

  constructor(
    private readonly registry: Replicas,
    private readonly limits: RegistryLimits,
    private readonly backend: StateBackend,
    private readonly log: Logger,
  ) {}

  /** Calls `listener` on every node when the host removed a participant (its sockets are to be closed). */
  onRemoval(listener: RemovalListener): void {
    this.removalListeners.push(listener);
  }

  /** The live session and role an invite token grants, if any. */
  async invite(token: string): Promise<{ session: Session; role: Role } | null> {
    let invite: { sessionId: string; role: Role } | null;
    try {
      invite = await this.backend.store.inviteOf(token);
    } catch (err) {
      throw stateUnavailable(err);
    }
    const session = invite ? await this.registry.load(invite.sessionId) : undefined;
    return invite && session ? { session, role: invite.role } : null;
  }

  /** Adds a participant through an invite token; throws when the invite is unknown or the session full. */
  async join(inviteToken: string): Promise<{ session: Session; participant: Participant }> {
    const granted = await this.invite(inviteToken);
    if (!granted) throw new GatewayError('SESSION_NOT_FOUND', 404, 'This join link is not valid, or its session has ended.');
    const { session, role } = granted;
    const n = session.participants.size + 1;
    const participant = new Participant(
      newParticipantId(),
      role === 'host' ? 'Host' : `Guest ${n}`,
      role,
      newSecret(),
      Date.now(),
      COLORS[(n - 1) % COLORS.length] ?? '#1c7ed6',
    );
    let added: 'ok' | 'full' | 'gone' | 'used';
    try {
      // The store checks again, in the same step as the write, that this link is still current
      // ("New links" may have replaced it since the lookup above) and, for a host link, that
      // nobody opened it yet (it opens once), marking it opened by this participant.
      added = await this.backend.store.addParticipant(session.id, participant.toRecord(), this.limits.maxParticipants, inviteToken);
    } catch (err) {
      throw stateUnavailable(err);
    }
    if (added === 'gone') throw new GatewayError('SESSION_NOT_FOUND', 404, 'This join link is not valid, or its session has ended.');
    if (added === 'full') {
      throw new GatewayError('PARTICIPANT_LIMIT', 403, `This session already has its maximum of ${this.limits.maxParticipants} participants.`);
    }
    if (added === 'used') {
      // Another browser opened this host link first (its holder, or someone it leaked to).
      this.log.warn('host link opened again from another browser: refused', { sessionId: session.id });
      session.audit({ event: 'blocked', role: 'host', detail: 'host link opened again from another browser (HOST_LINK_USED)' });
      if (session.hostLinkOpenedBy === '') await this.registry.refresh(session).catch(() => {});
      throw new GatewayError('HOST_LINK_USED', 409, 'This host link was already opened in another browser.');
    }
    if (role === 'host') session.hostLinkOpenedBy = participant.id;
    session.participants.set(participant.id, participant);
    this.registry.announce(session);
    session.audit({ event: 'join', participantId: participant.id, role: participant.role });
    session.touch();
    return { session, participant };
  }

  /**
   * Replaces the session's controller and observer invites: the old links stop on every node as
   * soon as this resolves (the store drops them in one step). Participants who are in stay; one
   * who opened an old link but has not entered any proxied host yet (its ticket unused) is removed
   * with it, so the link's ticket and the bounce through /t/ refuse it too.
   */
  async rotateInvites(session: Session, by: Participant | null): Promise<void> {
    const invites = { controller: newSecret(), observer: newSecret() };
    await this.storeRotation(session, () => this.backend.store.rotateInvites(session.id, invites));
    session.invites = { ...session.invites, ...invites };
    session.audit({ event: 'invites', ...(by ? { participantId: by.id, role: by.role } : {}), detail: 'new join links; the old ones stopped working' });
    this.registry.announce(session);
    // Who entered through another node a moment ago is known to the store first.
    await this.registry.refresh(session).catch(() => {});
    const pending = [...session.participants.values()].filter((p) => p.role !== 'host' && p.enteredLabels.size === 0 && p.connections === 0);
    for (const p of pending) {
      await this.removeParticipant(session, p.id, 'The join link you used was replaced before you entered.', by, {
        detail: 'joined through a replaced link, not entered',
      }).catch((err: unknown) =>
        this.log.warn('pending participant not removed', { sessionId: session.id, participantId: p.id, error: (err as Error).message }),
      );
    }
  }

  /**
   * Replaces the session's host link with one nobody opened yet: the old link stops on every node
   * as soon as this resolves (one store step). Who came in through the old one stays, with its
   * role; the new link makes one more host, once.
   */
  async rotateHostInvite(session: Session, by: Participant | null): Promise<void> {
    const host = newSecret();
    await this.storeRotation(session, () => this.backend.store.rotateHostInvite(session.id, host));
    session.invites = { ...session.invites, host };
    session.hostLinkOpenedBy = '';
    session.audit({ event: 'invites', ...(by ? { participantId: by.id, role: by.role } : {}), detail: 'new host link; the old one stopped working' });
    this.log.info('host link replaced', { sessionId: session.id, ...(by ? { participantId: by.id } : {}) });
    this.registry.announce(session);
  }

  /** Replaces links in the store (`step`, false when the session is gone): its failure is the store's, or SESSION_NOT_FOUND. */
  private async storeRotation(session: Session, step: () => Promise<boolean>): Promise<void> {
    session.writeEpoch++;
    let rotated: boolean;
    try {
      rotated = await step();
    } catch (err) {
      throw stateUnavailable(err);
    }
    if (!rotated || session.ended) throw new GatewayError('SESSION_NOT_FOUND', 404, 'This cobrowsing session has ended or never existed.');
  }

  /**
   * Removes a participant: its token stops on every node (both cookies), its sockets close with
   * `reason`, control it held goes back to the host. A host only with `hosts` (the admin API: a
   * host link that leaked before its holder opened it made a host, and a host's own page could
   * not undo that); its live page, if it had it, closes with its sockets. Throws NOT_FOUND for an
   * unknown participant, BAD_REQUEST for a host otherwise.
   */
  async removeParticipant(
    session: Session,
    participantId: string,
    reasonFor: string | ((target: Participant) => string),
    by: Participant | null,
    { detail = 'removed by the host', hosts = false }: { detail?: string; hosts?: boolean } = {},
  ): Promise<Participant> {
    let target = session.participants.get(participantId);
    if (!target) {
      await this.registry.refresh(session);
      target = session.participants.get(participantId);
    }
    if (!target) throw new GatewayError('PARTICIPANT_NOT_FOUND', 404, 'This session has no participant with this id (it may have been removed already).');
    if (target.role === 'host' && !hosts) {
      throw new GatewayError('BAD_REQUEST', 400, 'The host cannot be removed: pass the host role on first, or end the session.');
    }
    // What its sockets are told may depend on who it is (a host removed through the API).
    const reason = typeof reasonFor === 'string' ? reasonFor : reasonFor(target);
    session.writeEpoch++;
    let removed: boolean;
    try {
      removed = await this.backend.store.removeParticipant(session.id, target.id);
    } catch (err) {
      throw stateUnavailable(err);
    }
    if (!removed) {
      if (session.ended) throw new GatewayError('SESSION_NOT_FOUND', 404, 'This cobrowsing session has ended or never existed.');
      throw new GatewayError('PARTICIPANT_NOT_FOUND', 404, 'This session has no participant with this id (it may have been removed already).');
    }
    const heldControl = session.controlHolder === target.id;
    session.dropParticipant(target.id);
    if (heldControl) session.set({ controlHolder: null });
    session.audit({ event: 'remove', participantId: target.id, role: target.role, detail: `${detail}${by ? ` (${by.id})` : ''}` });
    if (heldControl) session.audit({ event: 'control', participantId: target.id, role: target.role, detail: 'control back to the host (removed)' });
    this.log.info('participant removed', { sessionId: session.id, participantId: target.id, role: target.role });
    for (const l of this.removalListeners) l(session, target, reason, true);
    if (this.registry.shared) {
      await this.backend.bus
        .publishEvent({ kind: 'removed', sessionId: session.id, participantId: target.id, reason, node: this.registry.nodeId })
        .catch((err: unknown) => this.log.warn('removal not announced', { sessionId: session.id, error: (err as Error).message }));
      this.registry.announce(session);
    }
    return target;
  }

  /** Another node removed a participant: out of this replica now, and its sockets here close. */
  removedElsewhere(sessionId: string, participantId: string, reason: string): void {
    const session = this.registry.get(sessionId);
    if (!session || session.ended) return;
    const gone = session.dropParticipant(participantId);
    if (gone) for (const l of this.removalListeners) l(session, gone, reason, false);
  }

  /** True when `token` was a participant of `sessionId` whom the host removed. */
  async wasRemoved(token: string, sessionId: string): Promise<boolean> {
    try {
      const owner = await this.backend.store.participantOf(token);
      return owner?.sessionId === sessionId && owner.removed === true;
    } catch (err) {
      throw stateUnavailable(err);
    }
  }

  /** The participant a token belongs to, only within the given session. */
  async participantByToken(token: string, sessionId: string): Promise<{ session: Session; participant: Participant } | null> {
    const session = await this.registry.load(sessionId);
    if (!session || session.ended) return null;
    const find = () => [...session.participants.values()].find((p) => p.token === token);
    let participant = find();
    if (!participant && this.registry.shared) {
      // Joined through another node a moment ago: the store knows before our replica does.
      const owner = await this.backend.store.participantOf(token).catch((err: unknown) => {
        throw stateUnavailable(err);
      });
      if (owner?.sessionId === sessionId && !owner.removed) {
        await this.registry.refresh(session);
        participant = find();
      }
    }
    return participant ? { session, participant } : null;
  }

  /** A one-time ticket that lets `participant` set its cookie on the proxied host `label`. */
  async issueTicket(session: Session, participant: Participant, label: string): Promise<string> {
    const ticket = newSecret();
    try {
      await this.backend.store.issueTicket(ticket, { sessionId: session.id, participantId: participant.id, label }, this.limits.ticketTtlMs);
    } catch (err) {
      throw stateUnavailable(err);
    }
    return ticket;
  }

  /** Redeems a ticket for the host it was issued for; each ticket works once. */
  async redeemTicket(ticket: string, sessionId: string, label: string): Promise<{ session: Session; participant: Participant } | null> {
    if (!ticket) return null;
    let entry: Awaited<ReturnType<StateBackend['store']['redeemTicket']>>;
    try {
      entry = await this.backend.store.redeemTicket(ticket);
    } catch (err) {
      throw stateUnavailable(err);
    }
    if (!entry || entry.sessionId !== sessionId || entry.label !== label) return null;
    const session = await this.registry.load(sessionId);
    if (!session) return null;
    let participant = session.participants.get(entry.participantId);
    if (!participant) {
      await this.registry.refresh(session);
      participant = session.participants.get(entry.participantId);
    }
    return participant ? { session, participant } : null;
  }
}
