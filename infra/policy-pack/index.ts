/**
 * The policy pack: `pulumi preview --policy-pack infra/policy-pack` (or `pulumi up ...`).
 * The rules are in rules.ts; the tests run them over the program's resources under mocks.
 */
import { PolicyPack } from '@pulumi/policy';
import { POLICIES } from './rules';

new PolicyPack('benchsight-ops', { policies: POLICIES });
