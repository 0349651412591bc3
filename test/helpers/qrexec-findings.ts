/** A policy with a Tor identity and a clearnet one, and the findings of one code on it, for tests of the qrexec checks. */
import { checkText } from './expect-diagnostics.js';
import type { Diagnostic } from '../../compiler/diagnostics/diagnostic.js';

/** Two identities: `anon` (Tor, its disposable template and `anon-chat`) and `work` (clearnet, `work-dvm` and `work-email`). */
export const head = `use "qubes"
use "whonix"
template deb { tag whonix-updatevm }
amend sys-net { template deb }
amend sys-firewall { template deb }
identity anon { network tor via sys-whonix; label red; disposable anon-dvm }
disposable anon-dvm in anon { template whonix-workstation-18 }
qube anon-chat in anon { template whonix-workstation-18 }
identity work { network clearnet via sys-firewall; label blue; disposable work-dvm }
disposable work-dvm in work { template deb }
qube work-email in work { template deb }
`;

/** The findings of one code, each with the text under its caret and its related spans' texts. */
export function findings(src: string, code: string) {
  const at = (s: { file: string; start: number; end: number } | undefined) => (s && s.file === 'test.qpol' ? src.slice(s.start, s.end) : `(${s?.file ?? 'none'})`);
  return checkText(src)
    .filter((d: Diagnostic) => d.code === code)
    .map((d) => ({ message: d.message, underline: at(d.span), label: d.label ?? '', related: d.related.map((r) => ({ text: at(r.span), message: r.message })) }));
}
