// Preloaded into our worker processes by `bench/postgres.ts --count-queries` (NODE_OPTIONS=--require):
// counts the statements each sends through `pg` by name (or the start of its text), and writes
// them to $COUNT_QUERIES_DIR/<pid>.json every second and at exit. CommonJS, so --require loads it
// before the CLI and patches the same `pg` module the store imports.
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a NODE_OPTIONS=--require preload is CommonJS: require is the only import it has */
const fs = require('node:fs');
const path = require('node:path');
const dir = process.env.COUNT_QUERIES_DIR;
if (dir) {
  const pg = require(require.resolve('pg', { paths: [process.cwd(), __dirname] }));
  const counts = new Map();
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function countedQuery(...args) {
    const config = args[0];
    const key = String(typeof config === 'string' ? config : (config && (config.name || config.text)) || '?').replace(/\s+/g, ' ').slice(0, 70);
    counts.set(key, (counts.get(key) || 0) + 1);
    // Statements that found nothing (a claim with no lane due) are counted apart as well; pg-pool
    // passes a callback, a client used directly returns a promise.
    const empty = (r) => {
      if (r && r.rowCount === 0) counts.set(`${key} (no rows)`, (counts.get(`${key} (no rows)`) || 0) + 1);
    };
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const callback = args[last];
      args[last] = (error, r) => {
        if (!error) empty(r);
        return callback(error, r);
      };
    }
    const result = query.apply(this, args);
    if (result && typeof result.then === 'function') result.then(empty, () => {});
    return result;
  };
  const dump = () => fs.writeFileSync(path.join(dir, `${process.pid}.json`), JSON.stringify(Object.fromEntries(counts)));
  setInterval(dump, 1000).unref();
  process.on('exit', dump);
}
