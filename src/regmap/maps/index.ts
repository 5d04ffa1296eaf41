/** The register maps the library ships, by name: what `vfio read --map NAME` finds. */
import type { RegisterMap } from '../map.js';
import { e1000eMap } from './e1000e.js';
import { nvmeMap, nvmeDoorbells } from './nvme.js';

export { e1000eMap, nvmeMap, nvmeDoorbells };

/**
 * The shipped maps by name (`e1000e`, `nvme`), with plain `string` names: a typed map is one of
 * these with more precise names, which TypeScript cannot see through its accessors' parameters.
 */
export const builtinMaps: Readonly<Record<string, RegisterMap>> = {
  e1000e: e1000eMap as unknown as RegisterMap,
  nvme: nvmeMap as unknown as RegisterMap,
};
