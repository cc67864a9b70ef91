/**
 * A yardstick for CPU time on a shared machine: the same small unit of work (JSON and a Map, about
 * a tenth of a millisecond, like a slice of a worker's event) every 5 ms, blocking in between as a
 * worker blocks on I/O. Every 250 ms it prints `units cpuMicros` (totals so far). On 2 cores
 * shared by many processes the CPU time of one unit grows (cold caches after each wake-up,
 * preemption, the hypervisor): a level whose probe costs 1.6× per unit charges its own work ~1.6×
 * too, whatever it does. Started by bench/postgres.ts (startProbe); costs about 2% of a core.
 */
import { setTimeout as sleep } from 'node:timers/promises';

const sample = { type: 'track', event: 'Order Completed', userId: 'user-123', properties: { orderId: 'o-1', total: 42.5, products: Array.from({ length: 8 }, (_, i) => ({ sku: `sku-${i}`, price: i * 3.5, qty: i + 1 })) } };

function unit(): number {
  let n = 0;
  const seen = new Map<string, number>();
  for (let i = 0; i < 12; i++) {
    const text = JSON.stringify({ ...sample, messageId: `m-${i}` });
    const back = JSON.parse(text) as { properties: { products: unknown[] } };
    seen.set(text.slice(0, 40) + i, back.properties.products.length);
    n += text.length;
  }
  return n + seen.size;
}

let units = 0;
let sink = 0;
const start = process.cpuUsage();
setInterval(() => {
  const used = process.cpuUsage(start);
  process.stdout.write(`${units} ${used.user + used.system}\n`);
}, 250);
for (;;) {
  sink += unit();
  units++;
  await sleep(5);
  if (sink < 0) break;
}
