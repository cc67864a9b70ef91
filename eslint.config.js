// Lint runs in `npm test`: type-aware rules would double the time of tsc, so the
// recommended (syntactic) set is used and tsc does the type checking.
import tseslint from 'typescript-eslint';

/**
 * DESIGN.md's layout: each folder of src/ owns one concern and must not know about some others.
 * Imports are matched as written (relative paths), type-only imports included; import cycles are
 * checked by test/architecture/import-cycles.test.ts.
 */
const SRC_FOLDERS = ['segment', 'sailthru', 'destination', 'delivery', 'server', 'emulator', 'cli'];

/** A relative import of another folder of src/ (from a file at any depth below src/<folder>/). */
const folderImport = (folder) => `^(\\.\\./)+${folder}/`;
/** A relative import of a module at the root of src/ (config.ts, cli.ts, json.ts). */
const rootImport = (module) => `^(\\.\\./)+${module.replace('.', '\\.')}$`;

function layer(folder, { why, folders = [], roots = [], packages = [], regexes = [] }) {
  const message = `src/${folder}/ must not know about ${why} (DESIGN.md, "Layout").`;
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...folders.map((f) => ({ regex: folderImport(f), message })),
            ...roots.map((m) => ({ regex: rootImport(m), message })),
            ...regexes.map((regex) => ({ regex, message })),
            ...(packages.length > 0 ? [{ group: packages, message }] : []),
          ],
        },
      ],
    },
  };
}

const others = (...allowed) => SRC_FOLDERS.filter((f) => !allowed.includes(f));
const STORAGE = ['better-sqlite3', 'pg', 'ioredis'];
const HTTP_SERVER = ['fastify', '@fastify/*'];

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'test-output/', 'bench/results/', 'dist/', 'dist.new-*/', 'dist.old-*/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  // Arrows only point down the list: segment, sailthru, destination, delivery, server.
  layer('segment', { why: 'Sailthru or storage', folders: others('segment'), roots: ['config.ts', 'cli.ts'], packages: [...STORAGE, 'undici'] }),
  layer('sailthru', { why: 'Segment or storage', folders: others('sailthru'), roots: ['config.ts', 'cli.ts'], packages: STORAGE }),
  layer('destination', {
    why: 'the HTTP server or storage',
    folders: others('destination', 'segment', 'sailthru'),
    roots: ['config.ts', 'cli.ts'],
    packages: [...STORAGE, ...HTTP_SERVER],
  }),
  layer('delivery', {
    why: 'the HTTP server',
    folders: ['server', 'emulator', 'cli'],
    roots: ['config.ts', 'cli.ts'],
    packages: HTTP_SERVER,
  }),
  layer('server', {
    why: 'SQL (the stores own it; the server sees the EventStore interface)',
    folders: ['emulator', 'cli'],
    roots: ['cli.ts'],
    packages: ['better-sqlite3', 'pg'],
    regexes: ['^(\\.\\./)+delivery/(sqlite|postgres)-', '^(\\.\\./)+delivery/(sql|sqlite|postgres)/'],
  }),
  // The emulator stands alone: nothing outside src/emulator/ (a relative path that leaves it).
  {
    files: ['src/emulator/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^\\.\\./', message: 'src/emulator/ must not know about the rest of src (DESIGN.md, "Layout").' }] }] },
  },
  {
    files: ['src/emulator/*/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^\\.\\./\\.\\./', message: 'src/emulator/ must not know about the rest of src (DESIGN.md, "Layout").' }] }] },
  },
);
