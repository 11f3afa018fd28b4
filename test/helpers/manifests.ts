/** Manifests written as `callvault manifest --date <day>` writes them. */
import { type ManifestDeps, type WrittenManifest, writeManifests } from '../../lambdas/core/manifest.ts';

/** Writes the manifests through `date` (the days after the newest one first); returns `date`'s. */
export async function writeThrough(date: string, deps: ManifestDeps): Promise<WrittenManifest> {
  const { written } = await writeManifests(deps, { through: date });
  const last = written.at(-1);
  if (last?.date !== date) throw new Error(`no manifest written for ${date}`);
  return last;
}
