import { describe, expect, it } from "vitest";
import { devEmailSender, takeSentEmails } from "./email";
import type { Fields, Logger } from "./logger";

function recordingLogger() {
  const lines: { level: string; msg: string; fields?: Fields }[] = [];
  const logger: Logger = {
    debug: (msg, fields) => lines.push({ level: "debug", msg, fields }),
    info: (msg, fields) => lines.push({ level: "info", msg, fields }),
    warn: (msg, fields) => lines.push({ level: "warn", msg, fields }),
    error: (msg, fields) => lines.push({ level: "error", msg, fields }),
    with: () => logger,
  };
  return { logger, lines };
}

const secret = `mri_${"S".repeat(43)}`;

describe("devEmailSender", () => {
  it.each(["development", "test"] as const)(
    "in %s keeps the message for the outbox and logs it",
    async (env) => {
      const { logger, lines } = recordingLogger();
      const to = `dev-${crypto.randomUUID()}@example.com`;
      await devEmailSender(env, logger).send({ to, subject: "Hi", text: `token ${secret}` });
      expect(lines).toHaveLength(1);
      expect(JSON.stringify(lines[0])).toContain(secret);
      const [mail] = takeSentEmails(to.toUpperCase());
      expect(mail).toMatchObject({ to, subject: "Hi", text: `token ${secret}` });
      expect(takeSentEmails(to)).toEqual([]);
    },
  );

  it("in production never logs or keeps the text, and redacts the recipient", async () => {
    const { logger, lines } = recordingLogger();
    const to = `prod-${crypto.randomUUID()}@example.com`;
    await devEmailSender("production", logger).send({ to, subject: "Hi", text: `token ${secret}` });
    expect(lines).toHaveLength(1);
    const logged = JSON.stringify(lines[0]);
    expect(logged).not.toContain(secret);
    expect(logged).not.toContain(to);
    expect(lines[0]?.fields).toMatchObject({ to: "p***@example.com", subject: "Hi" });
    expect(takeSentEmails(to)).toEqual([]);
  });

  it("takes only the named recipient's mail", async () => {
    const { logger } = recordingLogger();
    const sender = devEmailSender("test", logger);
    const a = `a-${crypto.randomUUID()}@example.com`;
    const b = `b-${crypto.randomUUID()}@example.com`;
    await sender.send({ to: a, subject: "1", text: "" });
    await sender.send({ to: b, subject: "2", text: "" });
    await sender.send({ to: a, subject: "3", text: "" });
    expect(takeSentEmails(a).map((m) => m.subject)).toEqual(["1", "3"]);
    expect(takeSentEmails(b).map((m) => m.subject)).toEqual(["2"]);
  });
});
