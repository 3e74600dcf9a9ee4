export * from './findings';
export { listRules, validate, type Rule } from './validate';
export { qualityAfterChange, type Change, type QualityOutcome } from './after-change';
