import { defectTest } from '../defect-check.ts';

defectTest('no-fencing');
