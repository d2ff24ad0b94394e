// Part of scripts/gen-episode-docs.mjs: what TypeScript erases (doc comments, unions, the permission table's sources), read from packages/core/src.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { core, createEpisodeModel, episodeSrc, eventSchemas, fail, root } from './env.mjs';

// ---------------------------------------------------------------------------------------------------------
// What TypeScript erases, read from the source

function source(file) {
  const path = join(episodeSrc, file);
  if (!existsSync(path)) {
    fail(`${relative(root, path)} not found (the docs read doc comments from it).`);
  }
  return readFileSync(path, 'utf8');
}

/** The body of `export interface name { ... }` (top-level braces only). */
function interfaceBody(src, name) {
  const start = src.indexOf(`export interface ${name} {`);
  if (start < 0) throw new Error(`gen-episode-docs: interface ${name} not found`);
  let depth = 0;
  for (let i = src.indexOf('{', start); i < src.length; i++) {
    if (src[i] === '{') depth++;
    else if (src[i] === '}' && --depth === 0) return src.slice(src.indexOf('{', start) + 1, i);
  }
  throw new Error(`gen-episode-docs: interface ${name} is not closed`);
}

/** The top-level fields of an interface with their doc comments, in order. */
export function interfaceFields(src, name) {
  const body = interfaceBody(src, name);
  const fields = [];
  let depth = 0;
  let doc = '';
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (depth === 0 && line.startsWith('/**')) {
      let text = line;
      while (!text.includes('*/') && i + 1 < lines.length) text += ` ${lines[++i].trim()}`;
      doc = text
        .replace(/^\/\*\*|\*\/$/g, '')
        .replace(/\s\*\s/g, ' ')
        .replace(/\s+/g, ' ')
        .trim();
      continue;
    }
    const m = depth === 0 ? /^readonly (\w+)\??:/.exec(line) : null;
    if (m) {
      fields.push({ name: m[1], doc });
      doc = '';
    }
    depth += (line.match(/[{(]/g) ?? []).length - (line.match(/[})]/g) ?? []).length;
  }
  return fields;
}

/** The string literals of a union type that starts at `marker` and ends at the first `;`. */
export function unionAfter(src, marker) {
  const start = src.indexOf(marker);
  if (start < 0) throw new Error(`gen-episode-docs: ${marker} not found`);
  const end = src.indexOf(';', start);
  return [...src.slice(start + marker.length, end).matchAll(/'([^']+)'/g)].map((m) => m[1]);
}

/**
 * The value of `export const name ... = { ... };` when it is a literal of strings (no code): evaluated on its
 * own, for objects the package does not export.
 */
function objectLiteral(src, name) {
  const start = src.indexOf(`export const ${name}`);
  if (start < 0) throw new Error(`gen-episode-docs: ${name} not found`);
  const open = src.indexOf('= {', start) + 2;
  let depth = 0;
  let quote = null;
  for (let i = open; i < src.length; i++) {
    const ch = src[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"' || ch === '`') quote = ch;
    else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0)
      return Function(`"use strict"; return (${src.slice(open, i + 1)});`)();
  }
  throw new Error(`gen-episode-docs: ${name} is not closed`);
}

/** Fails generation unless the code and the prose of this script name the same things. */
export function sameSet(what, inCode, described) {
  const missing = inCode.filter((x) => !(x in described));
  const gone = Object.keys(described).filter((x) => !inCode.includes(x));
  if (missing.length || gone.length) {
    fail(
      `the ${what} in the code and in this script differ: ${missing.length ? `not described: ${missing.join(', ')}` : ''}${missing.length && gone.length ? '; ' : ''}${gone.length ? `described but not in the code: ${gone.join(', ')}` : ''}. Update scripts/episode-docs/prose.mjs.`,
    );
  }
}

export const policySrc = source('policy.ts');
export const statusSrc = source('status.ts');
export const phasesSrc = source('phases.ts');

// The permission table: exported by newer builds; else the default model's table and the sources from the source.
export const permissionTable = core.defaultPermissions ?? createEpisodeModel().permissions;
export const permissionSources =
  core.permissionSources ?? objectLiteral(source('permissions.ts'), 'permissionSources');
export const roles = core.recordedByRoles;
{
  const types = Object.keys(eventSchemas);
  const missing = types.filter((t) => !Array.isArray(permissionTable[t]) || permissionTable[t].length === 0);
  if (missing.length) fail(`the permission table has no row for ${missing.join(', ')}.`);
}
export const primaryRole = (type) => permissionTable[type][0];
