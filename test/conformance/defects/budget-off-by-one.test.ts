import { defectTest } from '../defect-check.ts';

defectTest('budget-off-by-one');
