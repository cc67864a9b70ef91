import type { Database } from 'better-sqlite3';

/** The destination directory's writes. */

export interface DestinationRowInput {
  id: string;
  name: string;
  settings: string;
  /** JSON text; null: none configured. */
  mappings: string | null;
  now: number;
}

export function destinationWrites(db: Database) {
  const insert = db.prepare('INSERT INTO destinations (id, name, settings, mappings, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
  const replaceMappings = db.prepare('UPDATE destinations SET mappings = ?, version = version + 1, updated_at = ? WHERE id = ?');
  const replaceMappingsAt = db.prepare('UPDATE destinations SET mappings = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?');
  const rename = db.prepare('UPDATE destinations SET name = ?, updated_at = ? WHERE id = ?');
  const replaceSettings = db.prepare(
    `UPDATE destinations SET settings = ?, version = version + 1, paused = 0, pause_reason = NULL, updated_at = ?
     WHERE id = ?`,
  );
  const remove = db.prepare('DELETE FROM destinations WHERE id = ?');
  // Re-sealing keeps the version and the pause: the settings mean the same.
  const replaceText = db.prepare('UPDATE destinations SET settings = ? WHERE id = ? AND settings = ?');
  const removeWriteKeysOf = db.prepare('DELETE FROM write_keys WHERE destination_id = ?');
  const removeLanesOf = db.prepare('DELETE FROM lanes WHERE destination_id = ?');
  const removeIdentityLinksOf = db.prepare('DELETE FROM identity_links WHERE destination_id = ?');
  const removeSentProfilesOf = db.prepare('DELETE FROM sent_profiles WHERE destination_id = ?');
  const removeEvent = db.prepare('DELETE FROM events WHERE id = ?');
  const removeAttempts = db.prepare('DELETE FROM attempts WHERE event_id = ?');
  const pause = db.prepare('UPDATE destinations SET paused = 1, pause_reason = ?, updated_at = ? WHERE id = ?');
  const resume = db.prepare('UPDATE destinations SET paused = 0, pause_reason = NULL, updated_at = ? WHERE id = ? AND paused = 1');
  return {
    createDestination(row: DestinationRowInput): void {
      insert.run(row.id, row.name, row.settings, row.mappings, row.now, row.now);
    },

    /** New mappings (JSON text, null: the defaults): a new version, the pause stays. Returns whether the row was changed (exists, and is at `ifVersion` when given). */
    updateMappings(id: string, mappings: string | null, now: number, ifVersion?: number): boolean {
      if (ifVersion !== undefined) return replaceMappingsAt.run(mappings, now, id, ifVersion).changes > 0;
      return replaceMappings.run(mappings, now, id).changes > 0;
    },

    /** Returns whether the settings changed (which also resumes the destination). */
    updateDestination(id: string, name: string | undefined, settings: string | undefined, now: number): boolean {
      if (name !== undefined) rename.run(name, now, id);
      if (settings === undefined) return false;
      return replaceSettings.run(settings, now, id).changes > 0;
    },

    replaceSettingsText(id: string, expected: string, settings: string): boolean {
      return replaceText.run(settings, id, expected).changes > 0;
    },

    /** The destination row, its write keys and lanes (its events go by deleteEvents). */
    deleteDestination(id: string): boolean {
      const changes = remove.run(id).changes;
      removeWriteKeysOf.run(id);
      removeLanesOf.run(id);
      removeIdentityLinksOf.run(id);
      removeSentProfilesOf.run(id);
      return changes > 0;
    },

    deleteEvents(ids: number[]): void {
      for (const id of ids) {
        removeEvent.run(id);
        removeAttempts.run(id);
      }
    },

    pauseDestination(id: string, reason: string, now: number): void {
      pause.run(reason, now, id);
    },

    resumeDestination(id: string, now: number): boolean {
      return resume.run(now, id).changes > 0;
    },
  };
}
