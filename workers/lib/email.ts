import type { Config } from "../env";
import type { Logger } from "./logger";

/** One plain-text message. `text` may carry a secret (an invitation or reset token). */
export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
}

/** Delivers transactional email (invitations, password resets). */
export interface EmailSender {
  /** @throws Error when the message cannot be handed to the mail service. */
  send(message: EmailMessage): Promise<void>;
}

/** A message the dev sender recorded, as tests read it back. */
export interface SentEmail extends EmailMessage {
  sentAt: Date;
}

/*
 * Isolate-lifetime outbox. Only development and test write to it (production messages may
 * carry live tokens and must not sit in memory), and it is capped so a long `wrangler dev`
 * session does not grow without bound. Tests share the isolate, so each reads and clears only
 * the messages of its own, unique, recipient.
 */
const OUTBOX_CAP = 500;
const outbox: SentEmail[] = [];

/**
 * Removes and returns what the dev sender "sent" to `to` (matched case-insensitively), oldest
 * first. For tests and local development only; production never fills the outbox.
 *
 * @example
 * const [mail] = takeSentEmails("ada@example.com");
 */
export function takeSentEmails(to: string): SentEmail[] {
  const address = to.toLowerCase();
  const taken: SentEmail[] = [];
  for (let i = 0; i < outbox.length; ) {
    const mail = outbox[i] as SentEmail;
    if (mail.to.toLowerCase() === address) {
      taken.push(mail);
      outbox.splice(i, 1);
    } else {
      i++;
    }
  }
  return taken;
}

/** `ada@example.com` -> `a***@example.com`: enough to correlate a log line, not to harvest addresses. */
function redact(address: string): string {
  const at = address.lastIndexOf("@");
  return at > 0 ? `${address[0]}***${address.slice(at)}` : "***";
}

/**
 * The sender used until a mail provider is wired in. In development and test it logs the whole
 * message (so a developer can follow the link) and keeps it in the outbox; in production it
 * logs only that a message was due, with a redacted recipient and never the text, which holds
 * the token.
 */
export function devEmailSender(environment: Config["ENVIRONMENT"], logger: Logger): EmailSender {
  const local = environment === "development" || environment === "test";
  return {
    async send(message) {
      if (local) {
        outbox.push({ ...message, sentAt: new Date() });
        if (outbox.length > OUTBOX_CAP) outbox.splice(0, outbox.length - OUTBOX_CAP);
        logger.info("email (dev sender, not delivered)", {
          to: message.to,
          subject: message.subject,
          text: message.text,
        });
        return;
      }
      logger.warn("email not delivered: no mail provider is configured", {
        to: redact(message.to),
        subject: message.subject,
      });
    },
  };
}

/**
 * The sender this deployment uses. Only the dev sender exists today, so every environment
 * gets it; a real provider will be selected here by a config key when one is added.
 *
 * @example
 * await emailSenderFor(c.get("config"), c.get("logger")).send({ to, subject, text });
 */
export function emailSenderFor(config: Pick<Config, "ENVIRONMENT">, logger: Logger): EmailSender {
  return devEmailSender(config.ENVIRONMENT, logger);
}
