/** `qpc plan`: what provisioning would change on a recorded machine, as immer's patches from it to the desired machine (docs/plan.md). */
export { makePlan, sourceOfSnapshot, denyRules, denyLines, type Plan, type QubePlan, type FilePlan, type GatewayPlan, type QubeFilePlan, type RecordPlan, type PrefChange, type ValueChange, type DeviceChange, type MachineSource } from './plan.js';
export { staleItems, takeBack, leftAlone, recordKnown, installedByQpc, type StaleItem, type StalePolicy } from './stale.js';
export { applyPolicy, generatedByQpc, gatewayFileKey, type PlanInput, type ProvisionFacts, type DesiredPref } from './desired.js';
export { viewOfSnapshot, viewOfSystemInfo, pushedOf, type MachineView, type QubeView, type PrefView, type DeviceView, type GatewayFiles, type Coverage } from './state.js';
export { renderPlan, planJson, planSummary, planFile, PLAN_FORMAT, PLAN_FILE_FORMAT } from './render.js';
