/**
 * What the OWP language server answers, apart from the connection: diagnostics, completion and
 * hover for the repo contract (`.owp.yml`) and the repo policy (`.owp/policy.yml`).
 */
import {
  CompletionItemKind, DiagnosticSeverity, MarkupKind, type CompletionItem, type Diagnostic as LspDiagnostic,
} from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { TSchema } from '@sinclair/typebox';
import { checkContractText, RepoContractSchema } from '../protocol/contract-schema.ts';
import { checkPolicyText, RepoPolicySchema } from '../protocol/policy-schema.ts';
import type { Diagnostic } from '../protocol/yaml-diagnostics.ts';
import { CONTRACT_LANGUAGE_ID, POLICY_LANGUAGE_ID } from './language-ids.ts';
import { cursorContext, describeSchema, isMapping, keyAt, literalValues, schemaAt, siblingKeys } from './schema-cursor.ts';

type FileKind = 'contract' | 'policy';

/** Which of the two files a document is: by language id, else by its path. */
function kindOf(document: TextDocument): FileKind | undefined {
  if (document.languageId === CONTRACT_LANGUAGE_ID) return 'contract';
  if (document.languageId === POLICY_LANGUAGE_ID) return 'policy';
  const path = decodeURIComponent(document.uri);
  if (/(^|\/)\.owp\.ya?ml$/.test(path)) return 'contract';
  if (/(^|\/)\.owp\/policy\.ya?ml$/.test(path)) return 'policy';
  return undefined;
}

const SCHEMAS: Record<FileKind, TSchema> = { contract: RepoContractSchema, policy: RepoPolicySchema };

function toLsp(d: Diagnostic): LspDiagnostic {
  return {
    severity: d.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    range: {
      start: { line: d.start.line - 1, character: d.start.column - 1 },
      end: { line: d.end.line - 1, character: Math.max(d.end.column - 1, d.end.line === d.start.line ? d.start.column : 0) },
    },
    message: d.hint ? `${d.message}\nHint: ${d.hint}` : d.message,
    source: 'owp',
    ...(d.path ? { code: d.path } : {}),
  };
}

export function diagnose(document: TextDocument): LspDiagnostic[] {
  const kind = kindOf(document);
  if (!kind) return [];
  const text = document.getText();
  const checked = kind === 'contract' ? checkContractText(text) : checkPolicyText(text);
  return checked.diagnostics.map(toLsp);
}

/** Area names defined under the top-level `areas:` of a contract's text. */
export function areaNames(text: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^areas\s*:\s*$/.test(l));
  if (start < 0) return [];
  const out: string[] = [];
  let indent: number | undefined;
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    if (/^\S/.test(line)) break;
    const ws = line.length - line.trimStart().length;
    indent ??= ws;
    const match = /^\s*([a-z0-9][a-z0-9/._-]*)\s*:/.exec(line);
    if (ws === indent && match) out.push(match[1] as string);
  }
  return out;
}

/**
 * The contract's areas for a document: its own for a contract; for a policy, those of the
 * `.owp.yml` one folder up (through `readContract`, which gives undefined when there is none).
 */
function knownAreas(document: TextDocument, kind: FileKind, readContract: ContractReader): string[] {
  if (kind === 'contract') return areaNames(document.getText());
  const contractUri = document.uri.replace(/\/\.owp\/policy\.ya?ml$/, '/.owp.yml');
  const contract = contractUri === document.uri ? undefined : readContract(contractUri);
  return contract === undefined ? [] : areaNames(contract);
}

/** Reads the contract next to a policy file, by URI; undefined when there is none. */
export type ContractReader = (uri: string) => string | undefined;

const noContract: ContractReader = () => undefined;

export function complete(document: TextDocument, offset: number, readContract: ContractReader = noContract): CompletionItem[] {
  const kind = kindOf(document);
  if (!kind) return [];
  const text = document.getText();
  const context = cursorContext(text, offset);
  const schema = schemaAt(SCHEMAS[kind], context.path);
  if (!schema) return [];
  const asKeys = context.kind === 'key' || (context.path.at(-1) === '*' && isMapping(schema) && context.prefix === '');
  if (asKeys && isMapping(schema)) {
    const written = siblingKeys(text, offset);
    if (schema['x-key-completion'] === 'area') {
      return knownAreas(document, kind, readContract)
        .filter((area) => !written.has(area))
        .map((area) => ({ label: area, kind: CompletionItemKind.Module, insertText: `${area}:\n  `, detail: 'an area of the contract' }));
    }
    const properties = (schema.properties ?? {}) as Record<string, TSchema & Record<string, unknown>>;
    return Object.entries(properties).filter(([key]) => !written.has(key)).map(([key, child]) => {
      const nested = isMapping(child) || (child.type === 'array' && isMapping(child.items as TSchema & Record<string, unknown>));
      return {
        label: key,
        kind: CompletionItemKind.Property,
        insertText: nested ? `${key}:\n  ` : `${key}: `,
        detail: typeof child.description === 'string' ? child.description.split('. ')[0] : undefined,
        documentation: { kind: MarkupKind.Markdown, value: describeSchema(key, child) },
      };
    });
  }
  const values = schema['x-completion'] === 'area' ? knownAreas(document, kind, readContract) : literalValues(schema);
  return values.map((value) => ({ label: value, kind: CompletionItemKind.Value, detail: typeof schema.description === 'string' ? schema.description.split('. ')[0] : undefined }));
}

export function hover(document: TextDocument, offset: number): string | undefined {
  const kind = kindOf(document);
  if (!kind) return undefined;
  const found = keyAt(document.getText(), offset);
  if (!found) return undefined;
  const schema = schemaAt(SCHEMAS[kind], found.path);
  return schema ? describeSchema(found.key, schema) : undefined;
}
