/**
 * `vfio doctor [ADDRESS]`: every reason this machine (and the device) cannot do VFIO, checked
 * in the order a person would, each failure with its fix; text for people, JSON for scripts.
 */
import type { PciAddress } from '../../pci/index.js';
import type { CheckStatus, DoctorCheck } from './check.js';
import { deviceChecks } from './device-checks.js';
import type { MachineFacts } from './facts.js';
import {
  hugepagesCheck,
  interruptRemappingCheck,
  iommuCheck,
  memlockCheck,
  translationCheck,
  vfioCheck,
  waysInCheck,
} from './machine-checks.js';

export interface DoctorOptions {
  /** The device to check as well. */
  address?: PciAddress;
  /** The way in to check for: `auto` (any), `type1`, `iommufd` or `noiommu`. */
  iommu: string;
  /** Bytes of DMA the program will pin, for the locked-memory check. */
  dmaBytes: number;
}

export interface DoctorReport {
  /** True when nothing failed: VFIO (and the device) can be used. */
  ok: boolean;
  checks: DoctorCheck[];
  /** One line that says it all. */
  summary: string;
}

/** Runs every check that applies. */
export function runDoctor(m: MachineFacts, o: DoctorOptions): DoctorReport {
  const checks = [
    iommuCheck(m),
    translationCheck(m),
    vfioCheck(m),
    waysInCheck(m, o.iommu),
    interruptRemappingCheck(m),
    ...(o.address ? deviceChecks(m, o.address, o.iommu) : []),
    memlockCheck(m, o.dmaBytes),
    hugepagesCheck(m),
  ].filter((c): c is DoctorCheck => c !== undefined);
  const failed = checks.filter((c) => c.status === 'fail');
  const warned = checks.filter((c) => c.status === 'warn');
  const what = o.address ? `${o.address} can be used through VFIO` : 'this machine can use VFIO';
  const summary =
    failed.length === 0
      ? `${what}${warned.length ? ` (${count(warned.length, 'warning')}: ${titles(warned)})` : ''}`
      : `${o.address ? `${o.address} cannot be used through VFIO` : 'this machine cannot use VFIO'} until ${count(failed.length, 'problem')} ${failed.length > 1 ? 'are' : 'is'} fixed: ${titles(failed)}`;
  return { ok: failed.length === 0, checks, summary };
}

const count = (n: number, what: string) => `${n} ${what}${n > 1 ? 's' : ''}`;
const titles = (cs: DoctorCheck[]) => cs.map((c) => c.title).join(', ');

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', note: 'note', warn: 'WARN', fail: 'FAIL' };

/** The report for people: one line per check (`FAIL  VFIO: ...`), its fix under it, the summary last. */
export function formatDoctor(r: DoctorReport): string {
  const lines: string[] = [];
  for (const c of r.checks) {
    lines.push(`${MARK[c.status]}  ${c.title}: ${c.found}`);
    if (c.fix && c.status !== 'ok') lines.push(`      fix: ${c.fix}`);
  }
  lines.push('', r.summary);
  return lines.join('\n');
}

/** What `--dma` takes: bytes, or a size with K, M or G (binary). */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)([KMG]i?B?)?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? '').toUpperCase()[0];
  const n = Number(m[1]) * (unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : unit === 'G' ? 1024 ** 3 : 1);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** The default of `--dma`: what a small driver pins (rings and a packet pool). */
export const DEFAULT_DMA_BYTES = 64 * 1024 ** 2;
