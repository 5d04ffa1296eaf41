/**
 * Which register maps are bound to which region, so a tool that sees only a raw access (a
 * tracer, a replay) can name the register at an offset and decode the value. `bind()` notes
 * each binding here; a region keeps the latest binding of each map (a driver binds a map
 * again once it knows where its doorbells are). Weakly held: a binding costs nothing once the
 * region is gone.
 */
import type { RegisterAccess } from './access.js';
import type { RegisterDef } from './register.js';

/** The register at an offset of a bound region, and which access-sized part of it. */
export interface RegisterAt {
  /** The register (an array element's name is `NAME[i]`). */
  readonly register: RegisterDef;
  /** The map's name (`nvme`). */
  readonly map: string;
  /** 0 for an access of the whole register; for a register wider than its accesses, the part (lowest address 0). */
  readonly part: number;
  /** Whether the access covers the whole register, so its value decodes into fields. */
  readonly whole: boolean;
}

/** What a binding offers the index: its map's name and its registers with their offsets. */
export interface BindingView {
  readonly mapName: string;
  registers(): Iterable<RegisterDef>;
}

const bindings = new WeakMap<RegisterAccess, Map<string, BindingView>>();
const indexes = new WeakMap<BindingView, Map<number, RegisterDef>>();

/** Notes that `binding` is bound to `region`, replacing an earlier binding of the same map. */
export function noteBinding(region: RegisterAccess, binding: BindingView): void {
  let byMap = bindings.get(region);
  if (!byMap) {
    byMap = new Map<string, BindingView>();
    bindings.set(region, byMap);
  }
  byMap.delete(binding.mapName); // the newest binding is asked first
  byMap.set(binding.mapName, binding);
}

/** The names of the maps bound to `region`, newest last. */
export function mapsBoundTo(region: RegisterAccess): string[] {
  return [...(bindings.get(region)?.keys() ?? [])];
}

/** Offset of each access-sized part of each register to the register (built once per binding). */
function indexOf(binding: BindingView): Map<number, RegisterDef> {
  let index = indexes.get(binding);
  if (index) return index;
  index = new Map();
  for (const r of binding.registers()) {
    const step = r.accessWidth / 8;
    for (let at = r.offset; at < r.offset + r.width / 8; at += step) if (!index.has(at)) index.set(at, r);
  }
  indexes.set(binding, index);
  return index;
}

/**
 * The register a `width`-bit access at `offset` of `region` reaches, through the newest map
 * bound to it that has a register there; undefined when none has.
 */
export function registerAt(region: RegisterAccess, offset: number, width: number): RegisterAt | undefined {
  const byMap = bindings.get(region);
  if (!byMap) return undefined;
  const views = [...byMap.values()];
  for (let i = views.length - 1; i >= 0; i--) {
    const register = indexOf(views[i]).get(offset);
    if (!register) continue;
    if (width === register.width && offset === register.offset)
      return { register, map: views[i].mapName, part: 0, whole: true };
    if (width === register.accessWidth)
      return { register, map: views[i].mapName, part: (offset - register.offset) / (width / 8), whole: false };
  }
  return undefined;
}
