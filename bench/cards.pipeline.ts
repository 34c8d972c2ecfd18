/**
 * In-process timing of the write pipeline (`prepareWrite`) for two compiled modules on the same inputs:
 * no HTTP, no database, so the difference between the modules is what their formulas and rules cost.
 */
import { performance } from 'node:perf_hooks';
import type { RequestContext } from '../src/common/request-context';
import type { RecordReader } from '../src/formulas/formula.evaluator';
import type { CompiledModule } from '../src/metadata/compiled-module';
import { prepareWrite, type WriteInput } from '../src/records/record-write.pipeline';

type Data = Record<string, unknown>;

/** The bench formulas never read other records; anything that asks gets nothing. */
export const EMPTY_READER: RecordReader = {
  get: async () => undefined,
  children: async () => [],
  lookup: async () => undefined,
  count: async () => 0,
  sum: async () => 0,
};

export const BENCH_CONTEXT: RequestContext = { actorId: 'bench', actorName: 'bench', permissions: new Set(['admin']), source: 'api' };

/** One kind of pipeline call: what a create, an update or a card render passes to `prepareWrite`. */
export interface PipelineCase {
  name: string;
  input: () => Data;
  /** The stored record (per module: the rich one holds formula values), or null for a create. */
  current: (module: CompiledModule) => Data | null;
}

export interface Distribution {
  median: number;
  p95: number;
  mean: number;
}

export interface PipelineResult {
  name: string;
  plain: Distribution;
  rich: Distribution;
}

/** Milliseconds. */
export function distribution(samples: number[]): Distribution {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p95: at(0.95), mean: sorted.reduce((s, v) => s + v, 0) / sorted.length };
}

/** Runs one `prepareWrite` and returns its duration in ms; throws when the save would be refused. */
async function timeOnce(module: CompiledModule, input: Data, current: Data | null): Promise<number> {
  const args: WriteInput = {
    module,
    input,
    current,
    id: current ? '00000000-0000-4000-8000-000000000001' : undefined,
    ctx: BENCH_CONTEXT,
    reader: EMPTY_READER,
  };
  const start = performance.now();
  const result = await prepareWrite(args);
  const elapsed = performance.now() - start;
  if (result.errors.length > 0) throw new Error(`${module.name}: prepareWrite reported ${JSON.stringify(result.errors)}`);
  return elapsed;
}

/**
 * `warmup` unmeasured rounds, then `iterations` measured ones; each round calls both modules, alternating
 * which goes first, so both see the same machine noise, JIT state and GC pressure. Inputs are cloned
 * outside the timed region (the pipeline may keep references to them).
 */
export async function comparePipelines(
  plain: CompiledModule,
  rich: CompiledModule,
  testCase: PipelineCase,
  warmup: number,
  iterations: number,
): Promise<PipelineResult> {
  const plainSamples: number[] = [];
  const richSamples: number[] = [];
  const plainCurrent = testCase.current(plain);
  const richCurrent = testCase.current(rich);
  const once = async (module: CompiledModule, current: Data | null) =>
    timeOnce(module, structuredClone(testCase.input()), current ? structuredClone(current) : null);
  for (let i = 0; i < warmup + iterations; i++) {
    let p: number;
    let r: number;
    if (i % 2 === 0) {
      p = await once(plain, plainCurrent);
      r = await once(rich, richCurrent);
    } else {
      r = await once(rich, richCurrent);
      p = await once(plain, plainCurrent);
    }
    if (i >= warmup) {
      plainSamples.push(p);
      richSamples.push(r);
    }
  }
  return {
    name: testCase.name,
    plain: distribution(plainSamples),
    rich: distribution(richSamples),
  };
}

/** The stored form of a create of `input` in `module` (defaults and formula values included). */
export async function storedRecord(module: CompiledModule, input: Data): Promise<Data> {
  const result = await prepareWrite({ module, input: structuredClone(input), current: null, ctx: BENCH_CONTEXT, reader: EMPTY_READER });
  if (result.errors.length > 0) throw new Error(`${module.name}: the bench record is not valid: ${JSON.stringify(result.errors)}`);
  return result.data;
}
