/** The prefix of everything a tenant keeps in the documents bucket: originals and exports. */
export function tenantObjectsPrefix(tenantId: string): string {
  return `tenants/${tenantId}/`;
}

/** Deletes every object under the tenant's prefix, a listing page at a time; how many went. */
export async function eraseObjects(bucket: R2Bucket, tenantId: string): Promise<number> {
  const prefix = tenantObjectsPrefix(tenantId);
  let deleted = 0;
  for (;;) {
    // Always the first page: what was listed is deleted, so the next listing starts past it.
    const page = await bucket.list({ prefix, limit: 1000 });
    if (page.objects.length === 0) return deleted;
    await bucket.delete(page.objects.map((object) => object.key));
    deleted += page.objects.length;
  }
}
