import type { Database } from 'better-sqlite3';

/** Wrong admin tokens' writes. */

export function signInFailureWrites(db: Database) {
  const forget = db.prepare('DELETE FROM sign_in_failures WHERE at < ?');
  const insert = db.prepare('INSERT INTO sign_in_failures (client, at) VALUES (?, ?)');
  const clear = db.prepare('DELETE FROM sign_in_failures WHERE client = ?');
  return {
    recordSignInFailure(client: string, at: number, forgetBefore: number): void {
      forget.run(forgetBefore);
      insert.run(client, at);
    },

    clearSignInFailures(client: string): void {
      clear.run(client);
    },
  };
}
