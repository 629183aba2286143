// A real CPU burner: spins until told to stop (test/limiters/cpu.test.ts).
import { parentPort } from 'node:worker_threads';

let stop = false;
parentPort.on('message', () => {
  stop = true;
});
parentPort.postMessage('burning');
const spin = () => {
  const end = performance.now() + 50;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  if (!stop) setImmediate(spin);
  else process.exit(0);
};
spin();
