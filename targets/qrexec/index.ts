/**
 * The qrexec target (DESIGN §5): the policy files dom0 reads from
 * `/etc/qubes/policy.d`, in the token rules of the selected Qubes release,
 * and the system information of the declared qubes for Qubes' own policy
 * tools. Check in `check.ts`, output in `emit.ts`, token rules in `syntax.ts`.
 */
import type { Target } from '../../compiler/target.js';
import { checkQrexec } from './check.js';
import { emitQrexec } from './emit.js';

export const qrexecTarget: Target = {
  name: 'qrexec',
  summary: 'qrexec policy files for /etc/qubes/policy.d and the system information Qubes policy tools read',
  check: checkQrexec,
  emit: (model) => emitQrexec(model),
};
