// Public names of the gradient-health monitor (re-exported from the package root).
export {
  DEFAULT_THRESHOLDS, RULE_SOURCES, resolveThresholds, type HealthThresholds,
} from './thresholds.js';
export {
  DIAGNOSIS_KINDS, REMEDY_KINDS, checkInputs, checkLossActivation, formatDiagnosis, makeDiagnosis,
  remediesFor, summarizeInputs,
  type Diagnosis, type DiagnosisKind, type Remedy, type RemedyKind, type Severity, type InputSummary,
} from './diagnoses.js';
export {
  HealthMonitor, OutlierDetector, type EpochLogs, type HealthMonitorOptions, type StatsSample,
} from './monitor.js';
export {
  exponentialDecay, stepDecay, piecewiseConstantDecay, cosineDecay, schedules,
  type ExponentialDecayOptions, type StepDecayOptions, type PiecewiseConstantDecayOptions, type CosineDecayOptions,
} from './schedules.js';
export {
  reduceLROnPlateau, healthCallback, type ReduceLROnPlateauOptions, type HealthHooks, type NamedLayerStats,
} from './callbacks.js';
// Importing the health module registers fit's `health` option and the compile-time check.
export {
  installHealth, compileDiagnoses, DEFAULT_HEALTH_EVERY, RESTART_ORDER, blamedOnInputs, firstRestartCause,
  type HealthOptions, type HealthPolicy, type HealthRecord, type RepairAction,
} from './fit.js';
export {
  remedyChange, applyToLayerOptions, applyToDenseOptions, layerEdits, type RemedyChange, type LayerFacts, type LayerEdit,
} from './remedies.js';
export {
  renderHealthReport, writeHealthReport, reportSeries, splitRuns, loadUplotAssets, type ReportData, type ReportOptions, type EarlierRun,
} from './report.js';
