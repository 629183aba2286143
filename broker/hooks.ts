/**
 * Aedes' hooks are callback-style, and an `async` function passed where a callback hook is
 * expected is silently accepted while its rejection is lost (aedes #185, #483). Every hook dameso
 * installs goes through these wrappers, once: the hook is written as a promise-returning function
 * and its result or rejection is turned into exactly one callback call.
 */
import type { Aedes, AuthenticateError, Client, ConnectPacket, PublishPacket, Subscription } from 'aedes';

/**
 * Resolves to allow; rejects to refuse (Aedes then closes the publisher's connection). May also
 * decide at once: returning nothing allows and throwing refuses, with no promise per publish.
 */
export type AuthorizePublishFn = (client: Client | null, packet: PublishPacket) => Promise<void> | undefined;
/** Resolves to the (possibly narrowed) subscription, or null to refuse it (SUBACK 0x80). */
export type AuthorizeSubscribeFn = (client: Client, sub: Subscription) => Promise<Subscription | null>;
/** Resolves true to accept the connection; false refuses it with CONNACK 5 (not authorized). */
export type AuthenticateFn = (
  client: Client,
  username: string | undefined,
  password: Buffer | undefined,
) => Promise<boolean>;
/** Resolves true to go on with the CONNECT; false closes the connection without CONNACK. */
export type PreConnectFn = (client: Client, packet: ConnectPacket) => Promise<boolean>;

export interface PromiseHooks {
  preConnect?: PreConnectFn;
  authenticate?: AuthenticateFn;
  authorizePublish?: AuthorizePublishFn;
  authorizeSubscribe?: AuthorizeSubscribeFn;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** The options Aedes takes, from promise-returning hooks. */
export function toAedesHooks(
  hooks: PromiseHooks,
): Partial<Pick<Aedes, 'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'>> {
  const out: Partial<Pick<Aedes, 'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'>> = {};
  const { preConnect, authenticate, authorizePublish, authorizeSubscribe } = hooks;
  if (preConnect) {
    out.preConnect = (client, packet, callback) => {
      preConnect(client, packet).then(
        (ok) => callback(null, ok),
        (err) => callback(asError(err), false),
      );
    };
  }
  if (authenticate) {
    out.authenticate = (client, username, password, done) => {
      authenticate(client, username, password).then(
        (ok) => {
          if (ok) return done(null, true);
          // MQTT-3.2.2-3 / CONNACK return code 5: not authorized.
          const err = new Error('not authorized') as AuthenticateError;
          err.returnCode = 5;
          done(err, false);
        },
        (err) => {
          const e = asError(err) as AuthenticateError;
          e.returnCode ??= 5;
          done(e, false);
        },
      );
    };
  }
  if (authorizePublish) {
    out.authorizePublish = (client, packet, callback) => {
      let pending: Promise<void> | undefined;
      try {
        pending = authorizePublish(client, packet);
      } catch (err) {
        callback(asError(err));
        return;
      }
      // Every publish passes here: a hook that decided synchronously is answered synchronously.
      if (pending === undefined) callback(null);
      else
        pending.then(
          () => callback(null),
          (err) => callback(asError(err)),
        );
    };
  }
  if (authorizeSubscribe) {
    out.authorizeSubscribe = (client, sub, callback) => {
      authorizeSubscribe(client, sub).then(
        (granted) => callback(null, granted),
        (err) => callback(asError(err)),
      );
    };
  }
  return out;
}
