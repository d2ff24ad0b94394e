// Part of scripts/gen-episode-docs.mjs: the machine's states and transitions read from its definition, as a Mermaid diagram and a table.
import { code, dash, episodeMachine, fail, table } from './env.mjs';
import { GUARDS, ROOT_EVENTS } from './prose.mjs';
import { sameSet } from './source.mjs';

// ---------------------------------------------------------------------------------------------------------
// The machine: walked from its definition

function stateNodes(node) {
  return Object.values(node.states).flatMap((child) => [child, ...stateNodes(child)]);
}
const machineRoot = episodeMachine.root;
export const allNodes = stateNodes(machineRoot);
{
  const keys = allNodes.map((n) => n.key);
  const dup = keys.filter((k, i) => keys.indexOf(k) !== i);
  if (dup.length) throw new Error(`gen-episode-docs: state keys are not unique (${dup.join(', ')})`);
}

/** Every transition of the machine: source node, event, guard label, targets (empty = stays). */
function transitionsOf(node) {
  const out = [];
  for (const [event, list] of node.transitions) {
    list.forEach((t, i) => {
      const guard = t.guard ? (typeof t.guard === 'string' ? t.guard : t.guard.type) : null;
      const label = guard ?? (list.length > 1 && i > 0 && list[i - 1].guard ? 'else' : null);
      out.push({ source: node, event, guard: label, targets: t.target ?? [] });
    });
  }
  return out;
}
const allTransitions = [machineRoot, ...allNodes].flatMap(transitionsOf);
// The Time section says the machine has no timers: keep it true.
const timed = [machineRoot, ...allNodes].filter((n) => n.after.length > 0 || n.invoke.length > 0);
if (timed.length) {
  fail(
    `${timed.map((n) => n.id).join(', ')} ${timed.length === 1 ? 'has' : 'have'} delayed transitions or invoked actors; the Time section of docs/episode.md says there are none. Update the prose in scripts/episode-docs/.`,
  );
}
export const guardsUsed = [...new Set(allTransitions.map((t) => t.guard).filter((g) => g && g !== 'else'))];
sameSet('guards', Object.keys(episodeMachine.implementations.guards), GUARDS);

// The root-level transitions: every one is described, stays where it is, and is guarded by openedAndAllowed.
export const rootTransitions = transitionsOf(machineRoot);
sameSet(
  'root-level transitions',
  rootTransitions.map((t) => t.event),
  ROOT_EVENTS,
);
for (const t of rootTransitions) {
  if (t.targets.length || t.guard !== 'openedAndAllowed') {
    fail(
      `the root-level transition on ${t.event} ${t.targets.length ? 'changes state' : `is guarded by ${t.guard}`}; the docs say root-level events are recorded in place once the episode is open. Update the prose in scripts/episode-docs/.`,
    );
  }
}

// Closed is not final: the page explains why; keep it true.
export const CLOSED_STATES = ['completed', 'discontinued'];
{
  const finals = allNodes.filter((n) => n.type === 'final').map((n) => n.key);
  const closed = CLOSED_STATES.map((k) => machineRoot.states[k]);
  if (finals.length || closed.some((n) => n?.type !== 'atomic' || n.transitions.size > 0)) {
    fail(
      `the closed states are no longer atomic states without transitions of their own${finals.length ? ` (final: ${finals.join(', ')})` : ''}; the section "Closed is not final" says they are. Update the prose in scripts/episode-docs/.`,
    );
  }
}

const edgeLabel = (t) => `${t.event}${t.guard ? ` [${t.guard}]` : ''}`;

export function mermaid() {
  const out = ['```mermaid', 'stateDiagram-v2'];
  const block = (node, indent) => {
    const pad = ' '.repeat(indent);
    for (const child of Object.values(node.states)) {
      if (child.type === 'history') {
        out.push(`${pad}${child.key} : H* (${child.history} history)`);
      } else if (child.type === 'compound') {
        out.push(`${pad}state ${child.key} {`);
        out.push(`${pad}  [*] --> ${child.initial.target[0].key}`);
        block(child, indent + 2);
        out.push(`${pad}}`);
      } else {
        out.push(`${pad}${child.key}`);
      }
    }
  };
  out.push(`  [*] --> ${machineRoot.initial.target[0].key}`);
  block(machineRoot, 2);
  // Edges at the top level (Mermaid moves a state into the last composite block that mentions it).
  const selfLoops = new Map();
  for (const t of allTransitions) {
    if (t.targets.length === 0) {
      if (t.source.type !== 'atomic') continue; // listed in the table: Mermaid cannot loop on a nested composite
      selfLoops.set(t.source.key, [...(selfLoops.get(t.source.key) ?? []), edgeLabel(t)]);
      continue;
    }
    for (const target of t.targets) out.push(`  ${t.source.key} --> ${target.key} : ${edgeLabel(t)}`);
  }
  for (const [key, labels] of selfLoops) out.push(`  ${key} --> ${key} : ${labels.join(', ')}`);
  for (const n of allNodes) if (n.type === 'final') out.push(`  ${n.key} --> [*]`);
  out.push('```');
  return out.join('\n');
}

function nodeName(n) {
  return n === machineRoot ? `${code(n.key)} (root)` : code(n.path.join('.'));
}

export function machineTable() {
  const rows = [];
  for (const n of [machineRoot, ...allNodes]) {
    const kind =
      n === machineRoot
        ? `root: its transitions apply in every state (starts in ${code(n.initial.target[0].key)})`
        : n.type === 'compound'
          ? `compound (starts in ${code(n.initial.target[0].key)})`
          : n.type === 'history'
            ? `${n.history} history`
            : n.type;
    const own = transitionsOf(n).map((t) => {
      const to = t.targets.length ? ` → ${t.targets.map((x) => code(x.key)).join(', ')}` : ' (stays)';
      return `${code(t.event)}${t.guard ? ` [${t.guard}]` : ''}${to}`;
    });
    rows.push([nodeName(n), kind, own.length ? own.join('<br>') : dash]);
  }
  return table(['State', 'Kind', 'Transitions (event [guard] → target)'], rows);
}

/** The states (paths) whose own transitions handle `event`. */
export function handledIn(event) {
  const states = allNodes.filter((n) => n.transitions.has(event)).map((n) => code(n.path.join('.')));
  return machineRoot.transitions.has(event) ? ['every state (root), once opened', ...states] : states;
}
