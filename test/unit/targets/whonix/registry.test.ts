/** The registry finds this target by name (`qpc compile --target whonix`). */
import test from 'ava';
import { targetNamed } from '../../../../targets/index.js';
import { whonixTarget } from '../../../../targets/whonix/index.js';

test('whonix: the registry lists this target', (t) => {
  t.is(targetNamed('whonix'), whonixTarget);
  t.is(whonixTarget.name, 'whonix');
});
