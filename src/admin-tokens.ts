/**
 * Who may open the console and the admin API: named tokens, each with a role. `ADMIN_TOKEN`
 * alone is one admin named `admin`; `ADMIN_TOKENS` names several, so the audit log can say who
 * did what. Format (docs/operating.md): `name:token` (an admin) or `name:role:token`, comma
 * separated. A token cannot hold `:` or `,` (they separate the fields), which `openssl rand -hex`
 * and `-base64url` tokens never do.
 */

export type AdminRole = 'admin' | 'viewer';
export const ADMIN_ROLES: readonly AdminRole[] = ['admin', 'viewer'];

export interface AdminCredential {
  /** Shown in the console and the audit log; never the token. */
  name: string;
  role: AdminRole;
  /** Secret: never logged, rendered or stored in plain. */
  token: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;

export class AdminTokensError extends Error {}

/** The credentials of ADMIN_TOKEN and ADMIN_TOKENS; errors name the entry, never its token. */
export function parseAdminTokens(adminToken: string | undefined, adminTokens: string | undefined): AdminCredential[] {
  const out: AdminCredential[] = [];
  if (adminToken !== undefined && adminToken !== '') out.push({ name: 'admin', role: 'admin', token: adminToken });
  const entries = (adminTokens ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  entries.forEach((entry, i) => {
    const where = `ADMIN_TOKENS entry ${i + 1}`;
    const parts = entry.split(':');
    if (parts.length < 2 || parts.length > 3) {
      throw new AdminTokensError(`${where} must be name:token or name:role:token (role admin or viewer); a token cannot contain ":"`);
    }
    const name = parts[0]!;
    const role = parts.length === 3 ? parts[1]! : 'admin';
    const token = parts[parts.length - 1]!;
    if (!NAME.test(name)) throw new AdminTokensError(`${where}: the name "${name.slice(0, 64)}" must be 1-64 letters, digits, ".", "_", "@" or "-"`);
    if (!(ADMIN_ROLES as readonly string[]).includes(role)) throw new AdminTokensError(`${where} ("${name}"): the role must be admin or viewer (got "${role.slice(0, 20)}")`);
    if (token === '') throw new AdminTokensError(`${where} ("${name}") has an empty token`);
    if (out.some((c) => c.name === name)) {
      throw new AdminTokensError(`${where}: the name "${name}" is used twice${name === 'admin' && adminToken ? ' (ADMIN_TOKEN is the admin named "admin")' : ''}`);
    }
    const twin = out.find((c) => c.token === token);
    if (twin) throw new AdminTokensError(`${where} ("${name}") has the same token as "${twin.name}": give each person their own`);
    out.push({ name, role: role as AdminRole, token });
  });
  return out;
}
