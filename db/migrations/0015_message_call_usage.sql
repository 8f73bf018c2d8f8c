ALTER TABLE "messages" ADD COLUMN "cache_creation_input_tokens" integer;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "cache_read_input_tokens" integer;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "cost_micro_usd" bigint;