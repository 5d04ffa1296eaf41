/** Resource ownership for the VFIO layer: the system layer's discipline, re-exported. */
export { Resource, closeAll } from '../sys/index.js';
