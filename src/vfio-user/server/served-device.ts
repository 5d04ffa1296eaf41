/**
 * A device model made servable: its config space laid out, its regions, interrupts and the
 * client's DMA windows, and the context its handlers get. One per model; the client's parts
 * (eventfds, DMA windows) are released when a client goes, the model's state is kept, as the
 * protocol asks, so the next client finds the device as the last one left it.
 */
import { ConfigSpace } from '../../pci/index.js';
import { closeAll } from '../../sys/index.js';
import { EmulatedConfigSpace } from '../model/config-space.js';
import type { DeviceModel, ModelContext } from './model.js';
import { ServedDma } from './served-dma.js';
import { ServedInterrupts } from './served-irqs.js';
import { ServedRegions } from './served-regions.js';
import type { ServedDevice } from './session.js';

export class ServedModel implements ServedDevice {
  readonly name: string;
  readonly regions: ServedRegions;
  readonly irqs: ServedInterrupts;
  readonly dma: ServedDma;
  readonly context: ModelContext;
  readonly #model: DeviceModel;
  readonly #config: EmulatedConfigSpace;
  readonly #onError: (error: unknown, what: string) => void;

  constructor(model: DeviceModel, maxDmaWindows: number, onError: (error: unknown, what: string) => void) {
    this.#model = model;
    this.#onError = onError;
    this.name = model.name;
    const interrupts = model.interrupts ?? {};
    this.#config = new EmulatedConfigSpace(
      {
        identity: model.identity,
        bars: model.bars,
        intx: !!interrupts.intx,
        capabilities: {
          pm: model.capabilities?.pm,
          msi: interrupts.msi ? { vectors: interrupts.msi } : undefined,
          msix: interrupts.msix,
          pcie: model.capabilities?.pcie,
        },
      },
      model.name,
    );
    this.regions = new ServedRegions(model.bars, this.#config, model.name);
    this.irqs = new ServedInterrupts(interrupts);
    this.dma = new ServedDma(model.name, maxDmaWindows);
    const { irqs, regions } = this;
    this.context = {
      dma: this.dma,
      interrupt: (vector = 0) => irqs.raise(vector),
      config: new ConfigSpace(this.#config),
      barMemory: (n) => regions.memory(n),
    };
  }

  /** Config space as built, the interrupts the client set taken away, then the model's own reset. */
  reset(): void {
    this.#config.reset();
    this.irqs.releaseAll();
    this.#model.reset?.(this.context);
  }

  modelFailed(error: unknown, command: string): void {
    this.#onError(error, `${this.name}: ${command}`);
  }

  /** The server stops: the client's parts, then the shared BARs' memory. */
  close(): void {
    closeAll([() => this.clientGone(), () => this.regions.close()]);
  }

  /** A client went: its eventfds and DMA windows are released; the model's state stays. */
  clientGone(): void {
    this.irqs.releaseAll();
    this.dma.unmapAll();
  }
}
