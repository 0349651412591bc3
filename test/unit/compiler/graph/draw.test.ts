import test from 'ava';
import { check, overlayHost, nodeHost, drawInput, drawModel, renderDot, type DrawModel, type DrawOptions } from '../../../../compiler/index.js';

const HEAD = `use "qubes"
use "whonix"
settings {
  qubes 4.2
  whonix 18
  policy-file 30-qpc
}
template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }
identity anon {
  network tor via sys-whonix
  label red
}
identity work {
  network clearnet via sys-firewall
  label blue
}
qube anon-web in anon { template whonix-workstation-18 }
qube work-web in work { template debian-12-xfce }
qube work-mail in work { template debian-12-xfce }
`;

function draw(body: string, opts: DrawOptions = {}): { model: DrawModel; codes: string[] } {
  const r = check('draw.qpol', { host: overlayHost(new Map([['draw.qpol', HEAD + body]]), nodeHost), targets: [] });
  if (!r.policy) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return { model: drawModel(drawInput(r.policy, { ...(r.graph ? { graph: r.graph } : {}), findings: r.diagnostics }), opts), codes: r.diagnostics.map((d) => d.code) };
}

const edge = (m: DrawModel, id: string) => m.edges.find((e) => e.id === id);

test('identities are clusters in their label colour with their network kind', (t) => {
  const { model } = draw('');
  const anon = model.clusters.find((c) => c.identity === 'anon');
  t.deepEqual(anon, { id: 'cluster_anon', identity: 'anon', network: 'tor via sys-whonix', label: 'red', colour: '#cc0000' });
  t.is(model.clusters.find((c) => c.identity === 'work')?.colour, '#3465a4');
  t.is(model.nodes.find((n) => n.id === 'anon-web')?.cluster, 'cluster_anon');
  t.is(model.nodes.find((n) => n.id === 'sys-whonix')?.kind, 'tor-gateway');
  t.is(model.nodes.find((n) => n.id === 'sys-firewall')?.kind, 'gateway');
});

test('netvm edges run to the network; a Tor identity reaches it only through its Tor gateway', (t) => {
  const { model } = draw('');
  const from = (q: string) => model.edges.filter((e) => e.from === q && e.kind !== 'channel').map((e) => e.to);
  t.deepEqual(from('anon-web'), ['sys-whonix']);
  t.deepEqual(from('sys-whonix'), ['sys-firewall']);
  t.deepEqual(from('sys-firewall'), ['sys-net']);
  t.deepEqual(from('sys-net'), ['(network)']);
  t.is(edge(model, 'netvm:anon-web->sys-whonix')?.colour, '#5c3566');
  // Templates only on request.
  t.false(model.nodes.some((n) => n.kind === 'template'));
  const withTemplates = draw('', { templates: true }).model;
  t.truthy(edge(withTemplates, 'template:work-web->debian-12-xfce'));
});

test('a leaking route is drawn in the finding colour with its code', (t) => {
  const { model, codes } = draw('qube leak in anon {\n  template whonix-workstation-18\n  netvm sys-firewall\n}\n');
  t.true(codes.includes('QP3004'));
  const e = edge(model, 'netvm:leak->sys-firewall');
  t.deepEqual(e?.findings, ['QP3004']);
  t.is(e?.colour, '#ef2929');
  t.regex(renderDot(model), /"leak" -> "sys-firewall" \[[^\]]*label="QP3004"/);
});

test('channels: allow solid, ask dashed, with the services, danger and findings', (t) => {
  const { model, codes } = draw('allow qubes.Gpg from work-mail to anon-web\nask my.Sync from work-web to work-mail\nallow qubes.VMShell from work-web to sys-firewall\n');
  t.true(codes.includes('QP3030'));
  const gpg = edge(model, 'channel:allow:work-mail->anon-web');
  t.deepEqual(gpg?.services, ['qubes.Gpg']);
  t.deepEqual(gpg?.findings, ['QP3030']);
  t.is(gpg?.colour, '#ef2929');
  // Within one identity: not a crossing.
  t.is(edge(model, 'channel:ask:work-web->work-mail'), undefined);
  const shell = edge(model, 'channel:allow:work-web->sys-firewall');
  t.is(shell?.danger, 'critical');
  // qpc reports the shell (QP3032): the finding's colour wins over the danger colour.
  t.deepEqual(shell?.findings, ['QP3032']);
  t.is(shell?.colour, '#ef2929');
  const dot = renderDot(model);
  t.regex(dot, /"work-mail" -> "anon-web" \[[^\]]*label="QP3030\\nqubes.Gpg"[^\]]*style=solid/);
});

test('ask channels are dashed; the closing denials of a Tor identity are no channel', (t) => {
  const { model } = draw('ask my.Sync from work-web to sys-firewall\n');
  const e = edge(model, 'channel:ask:work-web->sys-firewall');
  t.deepEqual(e?.services, ['my.Sync']);
  t.regex(renderDot(model), /"work-web" -> "sys-firewall" \[[^\]]*style=dashed/);
  // qpc closes the Tor identity: no edge and no any-to-any note touches it.
  t.false(model.edges.some((x) => x.kind === 'channel' && (x.from === 'anon-web' || x.to === 'anon-web')));
  t.false(model.notes.some((n) => n.among.includes('anon')));
  t.true(model.notes.some((n) => n.action === 'ask' && n.services.includes('qubes.Filecopy') && n.among.includes('work')));
});

test('--service keeps only those channels', (t) => {
  const { model } = draw('allow my.A from work-web to sys-firewall\nallow my.B from work-web to sys-firewall\n', { view: 'channels', services: ['my.B'] });
  t.deepEqual(edge(model, 'channel:allow:work-web->sys-firewall')?.services, ['my.B']);
  t.false(model.edges.some((e) => e.kind === 'netvm'));
  t.deepEqual(model.notes, []);
});

test('collapsed, each identity is one node and its channels are between identities', (t) => {
  const { model } = draw('allow my.A from work-web to sys-firewall\nallow my.A from work-mail to sys-firewall\n', { collapse: true });
  t.true(model.collapsed);
  t.deepEqual(model.clusters, []);
  t.deepEqual(model.nodes.find((n) => n.id === 'identity:work')?.kind, 'identity');
  t.false(model.nodes.some((n) => n.id === 'work-web'));
  t.deepEqual(edge(model, 'channel:allow:identity:work->sys-firewall')?.services, ['my.A']);
  t.truthy(edge(model, 'netvm:identity:anon->sys-whonix'));
});

test('the same policy gives the same bytes', (t) => {
  const body = 'allow qubes.Gpg from work-mail to anon-web\nask my.Sync from work-web to sys-firewall\n';
  t.is(renderDot(draw(body).model), renderDot(draw(body).model));
});
