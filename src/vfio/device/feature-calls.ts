/**
 * The calls of `DeviceFeatures` that the feature-specific parts (low power, DMA logging) make: an
 * interface of its own, so that `DeviceFeatures` can offer those parts without an import circle.
 */
export interface FeatureCalls {
  /** Whether the device has `feature` at all. */
  has(feature: number): boolean;
  /** `VFIO_DEVICE_FEATURE_GET` of `feature` into `payload`. */
  get(feature: number, payload: Uint8Array): number;
  /** `VFIO_DEVICE_FEATURE_SET` of `feature` from `payload`. */
  set(feature: number, payload?: Uint8Array): number;
}
