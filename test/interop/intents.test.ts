/** The intent behaviour suite against Mosquitto (Debian's package), started by the test. */
import { startMosquitto } from '../helpers/brokers.js';
import { intentBehaviour } from '../intent/behaviour.js';

intentBehaviour({ name: 'Mosquitto', start: () => startMosquitto() });
