/** Rules and system information written by hand, for tests of the qrexec analyses. */
import type { DomainInfo, QrexecRule, SystemInfo } from '../../compiler/qrexec/types.js';

/**
 * Native policy lines (`SERVICE ARGUMENT SOURCE TARGET ACTION [target=…]
 * [default_target=…] [user=…]`), one rule each, of the policy file `file`;
 * each rule's span is its line.
 */
export function nativeRules(file: string, text: string, stock = false): QrexecRule[] {
  return text
    .trim()
    .split('\n')
    .map((line, i) => {
      const [service, argument, source, target, action, ...params] = line.trim().split(/\s+/);
      const p = Object.fromEntries(params.map((x) => x.split('=')));
      const span = { file: `${file}.policy`, start: 0, end: line.length, line: i + 1, column: 1, endLine: i + 1, endColumn: line.length + 1 };
      return {
        service,
        argument,
        source,
        target,
        action: action as QrexecRule['action'],
        ...(p.target ? { redirect: p.target } : {}),
        ...(p.default_target ? { defaultTarget: p.default_target } : {}),
        ...(p.user ? { user: p.user } : {}),
        origin: { policyFile: file, stock, span, id: `${file}#${i + 1}` },
      };
    });
}

/** dom0 and the given qubes (AppVMs without tags or default disposable unless said). */
export function systemOf(...ds: Partial<DomainInfo>[]): SystemInfo {
  const all: DomainInfo[] = [{ name: 'dom0', type: 'AdminVM', tags: [], defaultDispvm: null, templateForDispvms: false }, ...ds.map((d) => ({ type: 'AppVM', tags: [], defaultDispvm: null, templateForDispvms: false, ...d }) as DomainInfo)];
  return { domains: new Map(all.map((d) => [d.name, d])) };
}
