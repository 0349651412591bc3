/** A machine's recorded state: the dom0 script that records it, and its reader (docs/snapshot.md). */
export { readSnapshot, readSystemInfo, readSystemInfoFile, systemInfoOf, systemInfoFromJson, parseOwnership, ownedLine, SNAPSHOT_FORMAT, DEVICE_CLASSES } from './read.js';
export type { MachineState, QubeState, Pref, DeviceAssignment, SnapshotFile, WhonixGateway, SnapshotResult, OwnedItem, OwnershipRecord } from './read.js';
export { snapshotScript } from './script.js';
