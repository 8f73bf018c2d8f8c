-- drizzle-kit does not emit CREATE EXTENSION, and the init migration's chunks.embedding column
-- needs the vector type. On Neon the owner role may create it. pgvector is not a trusted extension,
-- so on a self-managed server the bootstrap script creates it as superuser first, and this
-- statement is then a no-op.
CREATE EXTENSION IF NOT EXISTS vector;
