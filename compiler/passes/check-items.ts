/**
 * Checks every item of every declaration: whether the form takes it, single
 * values given once, values Qubes/Whonix/Tor accept, and references to
 * declarations of the right kind. Emits QP2001, QP2004, QP2012, QP2013,
 * QP2014, QP2016, QP2017.
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import { TAG } from '../qrexec/token.js';
import { didYouMean } from '../diagnostics/suggest.js';
import { isKernelName, kernelHelp, qubeLabels } from '../qubes-values.js';
import { itemKey, type Decl, type DeclKind } from '../program.js';
import type { Declaration, IntLit, Item, Word } from '../syntax/ast.js';
import { itemsByForm } from '../syntax/forms.js';
import { checkChoice, kindWords, resolveRef, type Resolver } from './names.js';

export { itemsByForm };

/** Items that may appear several times (keyed ones once per key). */
const MULTI = new Set(['device', 'tag', 'feature', 'service', 'app', 'listener']);

export const virtModes = ['pvh', 'hvm', 'pv'];
export const isolationModes = ['per-app', 'per-qube'];
export const whonixRoles = ['gateway', 'workstation'];
export const networkModes = ['clearnet', 'tor', 'none'];
export const deviceClasses = ['pci', 'usb', 'block', 'mic'];
/** Tor stream isolation flags qpc can request (tor(1) SocksPort flags). */
export const isolateFlags = ['dest-addr', 'dest-port', 'client-protocol'];
export const listenerKinds = ['socks', 'http-tunnel', 'trans', 'dns', 'control'];
export const listenerOptions = ['custom', 'local', 'keepalive-socks-auth', 'prefer-ipv6', 'extended-errors', 'ipv6-traffic'];

const FEATURE = /^[A-Za-z0-9_.-]+$/;
const APP = /^[A-Za-z0-9_.+-]+$/;

/** `a, b or c`. */
function orList(xs: readonly string[]): string {
  return xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`;
}

function checkInt(n: IntLit, min: number, max: number, what: string, ctx: Reporter): boolean {
  if (n.value >= min && n.value <= max && Number.isSafeInteger(n.value)) return true;
  ctx.report(diag('QP2013', n.span, { value: n.text, what }, { help: `expected a number from ${min} to ${max}` }));
  return false;
}

function checkPattern(w: Word, re: RegExp, what: string, help: string, ctx: Reporter): boolean {
  if (re.test(w.text)) return true;
  ctx.report(diag('QP2013', w.span, { value: w.text, what }, { help }));
  return false;
}

function itemSpan(i: Item): Word['span'] {
  return 'keySpan' in i ? i.keySpan : i.kind === 'AppItem' ? i.name.span : i.span;
}

function checkOne(r: Resolver, d: Decl, owner: Declaration, i: Item, ctx: Reporter): void {
  const ref = (w: Word, kinds: readonly DeclKind[], context: string) => resolveRef(r, w, kinds, context, ctx);
  switch (i.kind) {
    case 'RefItem':
      if (!i.target) {
        if (i.key === 'template') ctx.report(diag('QP2013', i.span, { value: 'none', what: '`template`' }, { help: '`template` takes a name' }));
        return;
      }
      if (i.key === 'template') ref(i.target, d.form === 'named-disposable' ? ['disposable'] : ['template'], `the \`template\` of ${kindWords[d.form]}`);
      else if (i.key === 'netvm') ref(i.target, ['gateway'], '`netvm`');
      else ref(i.target, ['disposable'], `\`${i.key}\``);
      return;
    case 'ValueItem':
      switch (i.key) {
        case 'label':
          checkChoice(i.value, qubeLabels, 'Qubes label', ctx);
          return;
        case 'virt-mode':
          checkChoice(i.value, virtModes, 'virtualisation mode', ctx);
          return;
        case 'isolation':
          checkChoice(i.value, isolationModes, 'isolation mode', ctx);
          return;
        case 'whonix':
          checkChoice(i.value, whonixRoles, 'Whonix role', ctx);
          return;
        case 'whonix-tags':
          checkChoice(i.value, ['on', 'off'], '`whonix-tags` value', ctx);
          return;
        case 'tag':
          checkPattern(i.value, TAG, 'Qubes tag', 'tags use letters, digits, `_` and `-`', ctx);
          return;
      }
      return;
    case 'MemoryItem': {
      const ok = checkInt(i.memory, 1, 1048576, 'memory size (MiB)', ctx);
      if (i.max && checkInt(i.max, 0, 1048576, 'maximum memory (MiB)', ctx) && ok && i.max.value !== 0 && i.max.value < i.memory.value) {
        ctx.report(diag('QP2013', i.max.span, { value: i.max.text, what: 'maximum memory' }, { help: `the maximum must be at least the initial ${i.memory.value} MiB (or 0 to turn memory balancing off)` }));
      }
      return;
    }
    case 'CountItem':
      checkInt(i.value, 1, 512, 'number of vCPUs', ctx);
      return;
    case 'StringItem':
      if (!i.value) {
        if (i.key === 'kernelopts') ctx.report(diag('QP2013', i.span, { value: 'none', what: '`kernelopts`' }, { help: 'write `kernelopts ""` for none' }));
        return;
      }
      if (i.key === 'kernel' && !isKernelName(i.value.value)) {
        ctx.report(diag('QP2013', i.value.span, { value: i.value.value, what: 'kernel' }, { help: kernelHelp }));
      }
      if (i.key === 'kernelopts' && (i.value.value.length > 512 || /[\x00-\x1f\x7f]/.test(i.value.value))) {
        ctx.report(diag('QP2013', i.value.span, { value: i.value.value.slice(0, 40), what: 'kernel command line' }, { help: 'Qubes takes at most 512 printable characters' }));
      }
      return;
    case 'DeviceItem':
      if (!checkChoice(i.deviceClass, deviceClasses, 'device class', ctx)) return;
      if (i.deviceClass.text !== 'mic' && !i.id) {
        ctx.report(diag('QP2017', i.span, { form: 'device', name: i.deviceClass.text, item: 'an identifier' }, { help: `write \`device ${i.deviceClass.text} "BACKEND:IDENT"\` as \`qvm-device ${i.deviceClass.text} list\` shows it` }));
      } else if (i.id && !/^[A-Za-z0-9_.:+-]+$/.test(i.id.value)) {
        ctx.report(diag('QP2013', i.id.span, { value: i.id.value, what: 'device identifier' }, { help: 'write it as `qvm-device` lists it, such as `sys-usb:2-1` or `sys-net:00_14.0`' }));
      } else if (i.id && i.deviceClass.text === 'mic') {
        ctx.report(diag('QP2013', i.id.span, { value: i.id.value, what: 'microphone identifier' }, { help: 'the microphone takes no identifier: write `device mic`' }));
      }
      i.options.forEach((o, n) => {
        if (o.text !== 'no-strict-reset') {
          ctx.report(diag('QP2013', o.span, { value: o.text, what: 'device option' }, { help: 'the device option is `no-strict-reset`, for a PCI device that cannot be reset on its own' }));
        } else if (i.deviceClass.text !== 'pci') {
          ctx.report(diag('QP2013', o.span, { value: o.text, what: `option of a ${i.deviceClass.text} device` }, { help: 'only a PCI device is reset when it is given to a qube: remove `no-strict-reset`' }));
        } else if (i.options.slice(0, n).some((p) => p.text === o.text)) {
          ctx.report(diag('QP2013', o.span, { value: o.text, what: 'repeated device option' }, { help: 'write `no-strict-reset` once' }));
        }
      });
      return;
    case 'FeatureItem':
      checkPattern(i.key, FEATURE, 'feature name', 'feature names use letters, digits, `.`, `_` and `-`', ctx);
      if (/[\x00-\x1f\x7f]/.test(i.value.value)) ctx.report(diag('QP2013', i.value.span, { value: i.value.value.replace(/[\x00-\x1f\x7f]/g, '?'), what: 'feature value' }, { help: 'feature values are one line of printable text' }));
      return;
    case 'ServiceItem':
      checkPattern(i.service, FEATURE, 'Qubes service name', 'service names use letters, digits, `.`, `_` and `-`', ctx);
      return;
    case 'FlagItem':
      return;
    case 'NetworkItem': {
      if (!checkChoice(i.mode, networkModes, 'network mode', ctx)) return;
      if (i.mode.text === 'none') {
        if (i.via) ctx.report(diag('QP2016', i.via.span, { problem: '`network none` takes no gateway' }, { help: 'remove `via …`, or choose `network clearnet via G` or `network tor via G`' }));
      } else if (!i.via) {
        ctx.report(diag('QP2017', i.span, { form: `\`network ${i.mode.text}\``, name: owner.name.text, item: 'a gateway' }, { help: `write \`network ${i.mode.text} via GATEWAY\`` }));
      } else {
        ref(i.via, ['gateway'], `\`network ${i.mode.text} via\``);
      }
      return;
    }
    case 'AppItem':
      checkPattern(i.name, APP, 'app name', 'app names use letters, digits, `.`, `_`, `+` and `-`', ctx);
      if (i.socks) {
        for (const f of i.socks.isolate) checkChoice(f, isolateFlags, 'isolation flag', ctx);
        if (i.socks.port) checkInt(i.socks.port, 1, 65535, 'port', ctx);
      }
      return;
    case 'ListenerItem': {
      checkChoice(i.listenerKind, listenerKinds, 'listener kind', ctx);
      const a = checkInt(i.from, 1, 65535, 'port', ctx);
      const b = !i.to || checkInt(i.to, 1, 65535, 'port', ctx);
      if (a && b && i.to && i.to.value < i.from.value) ctx.report(diag('QP2013', i.to.span, { value: i.to.text, what: 'end of a port range' }, { help: `the range must end at or after ${i.from.value}` }));
      for (const f of i.isolate) {
        if (listenerOptions.includes(f.text)) ctx.report(diag('QP2013', f.span, { value: f.text, what: 'isolation flag' }, { help: `\`${f.text}\` is a listener option: write options before \`isolate\`` }));
        else checkChoice(f, isolateFlags, 'isolation flag', ctx);
      }
      for (const o of i.options) checkChoice(o, listenerOptions, 'listener option', ctx);
      return;
    }
  }
}

/** The key under which a multi-valued item must be unique, if any. */
function multiKey(i: Item): string | undefined {
  switch (i.kind) {
    case 'FeatureItem':
      return `feature ${i.key.text}`;
    case 'ServiceItem':
      return `service ${i.service.text}`;
    case 'AppItem':
      return `app ${i.name.text}`;
    case 'ValueItem':
      return i.key === 'tag' ? `tag ${i.value.text}` : undefined;
    case 'DeviceItem':
      return i.id ? `device ${i.deviceClass.text} ${i.id.value}` : `device ${i.deviceClass.text}`;
    default:
      return undefined;
  }
}

/** Checks the items of every declaration. */
export function checkItems(r: Resolver, ctx: Reporter): void {
  for (const d of r.program.decls.values()) {
    const allowed = itemsByForm[d.form];
    for (const owner of [d.node, ...d.amends]) {
      const seen = new Map<string, Item>();
      for (const i of owner.items) {
        const key = itemKey(i);
        if (!allowed.includes(key)) {
          const form = owner.form === 'amend' ? `${kindWords[d.form]} (\`${d.name}\`)` : kindWords[d.form];
          const where = (Object.keys(itemsByForm) as DeclKind[]).filter((f) => itemsByForm[f].includes(key)).map((f) => kindWords[f]);
          ctx.report(diag('QP2014', itemSpan(i), { item: key, form }, { help: where.length ? `\`${key}\` belongs in ${orList(where)}` : didYouMean(key, allowed) }));
          continue;
        }
        const dupKey = MULTI.has(key) ? multiKey(i) : key;
        if (dupKey !== undefined) {
          const first = seen.get(dupKey);
          if (first) {
            ctx.report(diag('QP2012', itemSpan(i), { item: dupKey, name: d.name }, { related: [{ span: itemSpan(first), message: 'first given here' }] }));
            continue;
          }
          seen.set(dupKey, i);
        }
        checkOne(r, d, owner, i, ctx);
      }
    }
    if (d.form === 'identity' && !d.items.some((i) => i.kind === 'NetworkItem')) {
      ctx.report(diag('QP2017', d.node.name.span, { form: 'identity', name: d.name, item: 'a `network` item' }, { help: 'add `network clearnet via GATEWAY`, `network tor via GATEWAY` or `network none`' }));
    }
    if (d.form === 'named-disposable' && !d.items.some((i) => i.kind === 'RefItem' && i.key === 'template')) {
      ctx.report(diag('QP2017', d.node.name.span, { form: 'named disposable', name: d.name, item: 'a `template` (its disposable template)' }));
    }
    if (d.node.identity) resolveRef(r, d.node.identity, ['identity'], `\`${d.node.form} … in\``, ctx);
  }
}
