/** The behaviour suite against Aedes (a bare one: garbage must reach the nodes). */
import { startAedes } from '../helpers/brokers.js';
import { intentBehaviour } from './behaviour.js';

intentBehaviour({ name: 'Aedes', start: () => startAedes({ checkEnvelopes: false }) });
