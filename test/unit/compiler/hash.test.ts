/**
 * `sha256`: lowercase hex of the UTF-8 bytes, the form `manifest.json`,
 * the standard library's tree cache and provisioning's `sha256sum -c` read.
 */
import test from 'ava';
import { sha256 } from '../../../compiler/hash.js';

test('the digests of the standard test vectors', (t) => {
  // FIPS 180-2 examples, as `printf '' | sha256sum` and `printf abc | sha256sum` print them.
  t.is(sha256(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  t.is(sha256('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('text is hashed as UTF-8, not as UTF-16 code units or Latin-1', (t) => {
  // `printf 'é' | sha256sum` (the two bytes c3 a9).
  t.is(sha256('é'), '4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c');
});

test('64 lowercase hex digits, and one changed character changes the digest', (t) => {
  for (const s of ['a', 'policy\n', '😀', 'x'.repeat(10_000)]) t.regex(sha256(s), /^[0-9a-f]{64}$/);
  t.not(sha256('allow a\n'), sha256('allow b\n'));
});
