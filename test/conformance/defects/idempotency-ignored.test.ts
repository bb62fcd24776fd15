import { defectTest } from '../defect-check.ts';

defectTest('idempotency-ignored');
