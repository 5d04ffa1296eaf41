// Types of devices.mjs, for the tests of the rig (test/rig/monitor.test.ts).
import type { HotplugDevice } from './monitor.mjs';
export const DEFAULT_DEVICES: string[];
export function deviceArgs(devices: string[], arm64: boolean, tmp: string): string[];
export function hotplugDevices(devices: string[]): HotplugDevice[];
