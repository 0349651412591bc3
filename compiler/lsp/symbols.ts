/**
 * Names for the language server, read from the references the binder
 * recorded (`Program.references`, passes/bind-program.ts): every place a
 * name is written, with the declaration it names. Definition, references,
 * rename and hover answer from that record; nothing here parses, walks the
 * tree or replaces `$whonix` again.
 */
import type { Program, Reference, Span } from '../index.js';

/** The name written at `offset` in `file` (its end counts: the cursor just after a name). */
export function occurrenceAt(program: Program, file: string, offset: number): Reference | undefined {
  return program.references.at(file, offset);
}

/** The span of the declaration of a name, if it is declared. */
export function definitionOf(program: Program, name: string): Span | undefined {
  return program.decls.get(name)?.node.name.span;
}

/** Every place a name is written; its declarations first when `includeDeclaration`. */
export function referencesOf(program: Program, name: string, includeDeclaration: boolean): readonly Reference[] {
  return program.references.of(name, includeDeclaration);
}
