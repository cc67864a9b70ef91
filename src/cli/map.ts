import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { planCalls } from '../destination/dry-run.ts';
import { explainMapping } from '../destination/mappings/explain.ts';
import { validateMappings } from '../destination/mappings/validate.ts';
import type { Mapping } from '../destination/mappings/schema.ts';
import { normalizeWebhookBody, type SegmentEvent } from '../segment/index.ts';
import { readEventText } from './event-file.ts';
import { CliError, runAction } from './options.ts';

interface MapFlags {
  file?: string;
  config?: string;
  destination?: string;
  mappings?: string;
  json?: boolean;
}

/**
 * `map < event.json`: the dry run of docs/mappings.md. Which mapping one event takes (and why the
 * ones before it did not), and the exact Sailthru calls it would make; nothing is sent. The
 * mappings and settings come from CONFIG_FILE's destination, or a mappings file, else the defaults.
 */
export function mapCommand(): Command {
  return new Command('map')
    .description('Show which mapping an event takes and the exact Sailthru calls it would make, sending nothing.')
    .addOption(new Option('--file <path>', 'the event as JSON (default: standard input)'))
    .addOption(new Option('--config <path>', 'a CONFIG_FILE whose destination gives the mappings and settings').env('CONFIG_FILE'))
    .addOption(new Option('--destination <id>', "the destination of --config (default: its only one)"))
    .addOption(new Option('--mappings <path>', 'a JSON file with a mapping list (overrides the destination\'s)'))
    .addOption(new Option('--json', 'print the result as JSON'))
    .addHelpText(
      'after',
      `
Without --config or --mappings the default mappings (SPEC.md) apply. A GET /user the mapping
needs is answered "User not found", as for a user Sailthru has never seen. See docs/mappings.md.

Examples:
  $ echo '{"type":"track","userId":"u1","event":"Signed Up"}' | sailthru-destination map
  $ sailthru-destination map --file order.json --config config.json --destination shop`,
    )
    .action((flags: MapFlags) =>
      runAction(async () => {
        const { settings, mappings } = sourcesOf(flags);
        let raw: unknown;
        try {
          raw = JSON.parse(await readEventText(flags.file ?? '-'));
        } catch (err) {
          throw new CliError(`the event is not JSON: ${err instanceof Error ? err.message : String(err)}`);
        }
        let plan;
        try {
          plan = await planCalls(raw, settings, { mappings });
        } catch (err) {
          throw new CliError(err instanceof Error ? err.message : String(err));
        }
        const normalized = normalizeWebhookBody(raw, new Date());
        const event = normalized.ok ? (normalized.accepted[0] as SegmentEvent | undefined) : undefined;
        const explained = event === undefined ? null : explainMapping(event, mappings);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ matched: explained?.matched ?? null, tried: explained?.tried ?? [], ...plan }, null, 2)}\n`);
          return 0;
        }
        const out: string[] = [];
        for (const t of explained?.tried ?? []) out.push(`  ${t.matched ? '→' : ' '} #${t.index} ${t.id} (${t.name}): ${t.why}`);
        const m = explained?.matched;
        out.unshift(m ? `Mapping: #${m.index} ${m.id} (${m.name}), action ${m.action}` : 'Mapping: none');
        out.push(`Outcome: ${plan.state}${plan.reason !== undefined ? `: ${plan.reason}` : ''}`);
        out.push(plan.calls.length === 0 ? 'Sailthru calls: none' : `Sailthru calls (${plan.calls.length}, nothing was sent):`);
        for (const c of plan.calls) out.push(`  ${c.method} ${c.endpoint} ${JSON.stringify(c.payload)}`);
        for (const w of plan.warnings) out.push(`Warning: ${w}`);
        process.stdout.write(`${out.join('\n')}\n`);
        return 0;
      }),
    );
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function sourcesOf(flags: MapFlags): { settings: Record<string, unknown>; mappings: Mapping[] | null } {
  let settings: Record<string, unknown> = {};
  let mappings: unknown = null;
  let where = 'mappings';
  if (flags.config) {
    const list = (readJson(flags.config) as { destinations?: unknown })?.destinations;
    if (!Array.isArray(list)) throw new CliError(`${flags.config}: expected {"destinations": [...]}`);
    const all = list as Array<Record<string, unknown>>;
    const found = flags.destination ? all.find((d) => d.id === flags.destination) : all.length === 1 ? all[0] : undefined;
    if (!found) throw new CliError(flags.destination ? `${flags.config} has no destination "${flags.destination}"` : `${flags.config} has several destinations: name one with --destination`);
    settings = (found.settings as Record<string, unknown> | undefined) ?? {};
    if (found.mappings !== undefined) {
      mappings = found.mappings;
      where = `destinations[${all.indexOf(found)}].mappings`;
    }
  } else if (flags.destination) {
    throw new CliError('--destination names a destination of --config (or CONFIG_FILE)');
  }
  if (flags.mappings) {
    mappings = readJson(flags.mappings);
    where = 'mappings';
  }
  if (mappings === null) return { settings, mappings: null };
  const checked = validateMappings(mappings, where);
  if (!checked.ok) throw new CliError(`invalid mappings:\n  ${checked.errors.join('\n  ')}`);
  return { settings, mappings: checked.mappings };
}
