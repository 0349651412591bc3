/**
 * The whonix target (DESIGN §5): Tor SocksPorts and firewall openings for
 * Whonix-Gateways, torsocks launchers for workstation apps, and the
 * app → gateway:port map. See README.md in this folder for the formats.
 */
import type { Target } from '../../compiler/target.js';
import { checkWhonix } from './check.js';
import { emitWhonix } from './emit.js';

export const whonixTarget: Target = {
  name: 'whonix',
  summary: 'Whonix-Gateway SocksPorts and firewall ports, workstation app launchers, ports.json',
  check: checkWhonix,
  emit: (model) => emitWhonix(model),
};
