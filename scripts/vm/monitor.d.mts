// Types of monitor.mjs, for the test of the relay (test/rig/monitor.test.ts).
export const MONITOR_PORT: string;
export const AER_ERRORS: { uncorrectable: string[]; correctable: string[] };
export interface HotplugDevice {
  name: string;
  id: string;
  props: Record<string, string>;
}
export function monitorArgs(tmp: string): string[];
export interface Monitor {
  qmp(): unknown;
  close(): void;
}
export function openMonitor(tmp: string, hotplug: HotplugDevice[], say: (message: string) => void): Promise<Monitor>;
