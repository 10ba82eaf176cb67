/**
 * server/protocol.ts imports nothing, so it writes the trace's data type out again
 * (`TraceView`); this checks at compile time that it is the engine's `TraceData`, both ways.
 */
import { describe, expect, expectTypeOf, test } from 'vitest';
import type { TraceData } from '../../engine/session/trace';
import type { TraceView } from '../../server/protocol';

describe('the nnlens/trace protocol type', () => {
  test('TraceView and the engine’s TraceData are mutually assignable', () => {
    expectTypeOf<TraceData>().toMatchTypeOf<TraceView>();
    expectTypeOf<TraceView>().toMatchTypeOf<TraceData>();
    // the same check as plain assignments (tsc --noEmit fails on a mismatch)
    const a = (x: TraceData): TraceView => x;
    const b = (x: TraceView): TraceData => x;
    expect(typeof a).toBe('function');
    expect(typeof b).toBe('function');
  });
});
