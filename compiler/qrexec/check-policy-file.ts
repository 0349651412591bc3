/**
 * Where the main policy file sits among the files dom0 reads (DESIGN §4.2):
 * it holds the user's rules and the rules qpc generates to close the Tor
 * identities, so it must be read before the `50-config-*` files Qubes'
 * Global Config writes, which qpc does not model. Emits QP3018.
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import type { Program } from '../program.js';
import type { Setting } from '../syntax/ast.js';

/** Where Global Config's files begin: every `50-config-*.policy` sorts at or after it. */
const GLOBAL_CONFIG = '50-config-';

/**
 * Whether dom0 reads the policy file `name` (without `.policy`) after some
 * Global Config file could be: `NAME.policy` compared with `50-config-` in
 * byte order, as dom0 sorts the directory. A name in Global Config's own
 * `50-config-` range sorts among its files; `50-config` itself sorts after
 * them, since `.` comes after `-`.
 */
export function afterGlobalConfig(name: string): boolean {
  return `${name}.policy` > GLOBAL_CONFIG;
}

/** The `policy-file` setting that named the main policy file, if one did. */
function policyFileSetting(program: Program): Setting | undefined {
  for (const f of program.files) {
    for (const st of f.ast.statements) {
      if (st.kind !== 'SettingsBlock') continue;
      const s = st.settings.find((x) => x.key.text === 'policy-file' && x.value.text === program.settings.policyFile);
      if (s) return s;
    }
  }
  return undefined;
}

/** QP3018: the main policy file sorts after the start of Global Config's `50-config-*` files. */
export function checkPolicyFile(program: Program, ctx: Reporter): void {
  const file = program.settings.policyFile;
  if (!afterGlobalConfig(file)) return;
  const setting = policyFileSetting(program);
  // Without a setting the file is the default, which sorts before Global Config.
  if (!setting) return;
  ctx.report(
    diag('QP3018', setting.value.span, { file }, {
      label: `dom0 reads \`${file}.policy\` after \`${GLOBAL_CONFIG}*.policy\``,
      help: 'name the main policy file so that it sorts before `50-config-`, such as `30-qpc` (the default) or `45-qpc`',
      notes: ['a rule in a Global Config file (file copy, clipboard, open in a qube, …) then decides before the rules that close the Tor identities'],
    }),
  );
}
