import { generate } from './run.js';
import { check } from '../compiler/index.js';
import { overlayHost } from '../compiler/host.js';
const g = generate(5000);
const t0 = performance.now();
const r = check('g.qpol', { host: overlayHost(new Map([['g.qpol', g.text]])) });
console.log((performance.now() - t0).toFixed(0), 'ms total');
