/**
 * Qubes' value tables: releases, labels, qube names per release, kernel
 * names. The checker, the targets and completion all read these, so each
 * edge is pinned here.
 */
import test from 'ava';
import { grubKernels, isKernelName, kernelVersionSyntax, qubeLabels, qubeNameSyntax, qubeNameSyntaxOf, qubesReleases } from '../../../compiler/qubes-values.js';

test('the releases qpc writes for, and the eight labels Qubes ships', (t) => {
  t.deepEqual([...qubesReleases], ['4.2', '4.3']);
  t.deepEqual([...qubeLabels].sort(), ['black', 'blue', 'gray', 'green', 'orange', 'purple', 'red', 'yellow']);
});

test('a qube name: a letter first, then letters, digits, `_`, `-` (and `.`), at most 31 characters', (t) => {
  for (const ok of ['a', 'work-web', 'sys_net2', 'A' + 'b'.repeat(30)]) t.true(qubeNameSyntax.test(ok), ok);
  for (const bad of ['', '1work', '-a', '_a', 'a b', 'a/b', 'A' + 'b'.repeat(31), 'é', 'work\n']) t.false(qubeNameSyntax.test(bad), JSON.stringify(bad));
});

test('Qubes 4.2 refuses a dot in a name that 4.3 accepts; otherwise the two agree', (t) => {
  t.false(qubeNameSyntaxOf('4.2').test('my.qube'));
  t.true(qubeNameSyntaxOf('4.3').test('my.qube'));
  t.is(qubeNameSyntaxOf('4.3'), qubeNameSyntax);
  for (const name of ['work', 'a'.repeat(31), 'a'.repeat(32), '9a', 'x-y_z']) t.is(qubeNameSyntaxOf('4.2').test(name), qubeNameSyntax.test(name), name);
});

test('kernel versions as Qubes\' kernel packages name their directories', (t) => {
  for (const ok of ['6.6.63-1.fc37', '6.1.0', '5.15.0-1.qubes.fc32', '6.6.63+2', '1.0']) t.true(isKernelName(ok), ok);
  for (const bad of ['', '6', 'v6.6', '6.6-', '6.6..1', '../6.6', '6.6/1', '6.6 1', 'latest', 'none']) t.false(isKernelName(bad), JSON.stringify(bad));
});

test('a kernel version is at most 64 characters', (t) => {
  const at = (n: number) => '6.' + '1'.repeat(n - 2);
  t.true(kernelVersionSyntax.test(at(64)));
  t.false(kernelVersionSyntax.test(at(65)));
});

test('the two grub images are kernel names, and no other word is', (t) => {
  t.true(isKernelName(grubKernels.pv));
  t.true(isKernelName(grubKernels.pvh));
  t.deepEqual(grubKernels, { pv: 'pvgrub2', pvh: 'pvgrub2-pvh' });
  t.false(isKernelName('pvgrub'));
  t.false(isKernelName('pvgrub2-hvm'));
});
