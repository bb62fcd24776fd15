import { defectTest } from '../defect-check.ts';

defectTest('no-area-locks');
