/**
 * Writes docs/errors.md from the code: every member of `VfioErrorCode` as the package exports it
 * (src/index.ts), with its code, the summary of its doc comment (what it means) and its `@fix`
 * block (what to do), read through the TypeScript compiler's type checker, so the page follows
 * the codes wherever they are declared. `npm run docs` runs it; test/repo/docs.test.ts checks
 * that the committed page is what it writes.
 *
 *   node --import tsx scripts/gen-errors-doc.ts            writes docs/errors.md
 *   node --import tsx scripts/gen-errors-doc.ts --check    exits 1 when docs/errors.md differs
 */
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const REPO = join(import.meta.dirname, '..');
/** The page, relative to the repository. */
export const ERRORS_PAGE = 'docs/errors.md';
/** The module whose exports are the package's API. */
const ENTRY = 'src/index.ts';

/** One error code as its doc comment describes it. */
export interface ErrorCodeDoc {
  /** The member of `VfioErrorCode` (`OUT_OF_RANGE`). */
  key: string;
  /** Its value (`ERR_VFIO_OUT_OF_RANGE`). */
  code: string;
  /** The summary of its doc comment; empty when it has none. */
  meaning: string;
  /** Its `@fix` block, when it has one. */
  fix?: string;
}

/** One error class as its declaration describes it. */
export interface ErrorClassDoc {
  name: string;
  /** The class it extends (`VfioError`, `RangeError`). */
  parent: string;
  /** The summary of its doc comment. */
  meaning: string;
}

/** What the page is made from: the codes, in declaration order, the classes, and the file declaring the codes. */
export interface ErrorCodes {
  codes: ErrorCodeDoc[];
  /** `ERROR_CLASSES`, in its order. */
  classes: ErrorClassDoc[];
  /** Relative to the repository (`structs/errors.ts`). */
  source: string;
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

/**
 * A doc comment's text as Markdown: `{@link Name}` becomes `` `Name` `` (or the link's own text,
 * `{@link Name | text}`), the rest stays as written.
 */
function markdown(parts: readonly ts.SymbolDisplayPart[] | undefined): string {
  let out = '';
  let link: { name: string; text: string } | undefined;
  for (const part of parts ?? []) {
    if (part.kind === 'link') {
      // The parts of a link come between two 'link' parts: `{@link ` and `}`.
      if (link) out += link.text.trim() || `\`${link.name.trim()}\``;
      link = link ? undefined : { name: '', text: '' };
    } else if (link && part.kind === 'linkText') link.text += part.text;
    else if (link) link.name += part.text;
    else out += part.text;
  }
  return oneLine(out);
}

/** Reads `VfioErrorCode` as `entry` (relative to `repo`) exports it. */
export function readErrorCodes(repo = REPO, entry = ENTRY): ErrorCodes {
  const file = join(repo, entry);
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
    noEmit: true,
    skipLibCheck: true,
    // The codes' types are string literals: no standard library is needed to read them.
    noLib: true,
  });
  const checker = program.getTypeChecker();
  const sourceFile = program.getSourceFile(file);
  const moduleSymbol = sourceFile && checker.getSymbolAtLocation(sourceFile);
  if (!moduleSymbol) throw new Error(`${entry} is not a module the TypeScript compiler can read`);
  let symbol = checker.getExportsOfModule(moduleSymbol).find((s) => s.name === 'VfioErrorCode');
  if (!symbol) throw new Error(`${entry} does not export VfioErrorCode`);
  if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  const declaration = symbol.valueDeclaration;
  if (!declaration) throw new Error(`VfioErrorCode, as ${entry} exports it, has no value`);
  const codes: ErrorCodeDoc[] = [];
  for (const member of checker.getPropertiesOfType(checker.getTypeOfSymbolAtLocation(symbol, declaration))) {
    const type = checker.getTypeOfSymbol(member);
    if (!type.isStringLiteral()) continue;
    const fix = member
      .getJsDocTags(checker)
      .filter((t) => t.name === 'fix')
      .map((t) => markdown(t.text))
      .join(' ');
    codes.push({
      key: member.name,
      code: type.value,
      meaning: markdown(member.getDocumentationComment(checker)),
      ...(fix ? { fix } : {}),
    });
  }
  if (codes.length === 0) throw new Error('VfioErrorCode has no string members');
  return {
    codes,
    classes: readErrorClasses(checker, checker.getExportsOfModule(moduleSymbol), entry),
    source: relative(repo, declaration.getSourceFile().fileName),
  };
}

/** The classes `ERROR_CLASSES` lists, each with its parent and the summary of its doc comment. */
function readErrorClasses(checker: ts.TypeChecker, exports: ts.Symbol[], entry: string): ErrorClassDoc[] {
  let list = exports.find((s) => s.name === 'ERROR_CLASSES');
  if (!list) throw new Error(`${entry} does not export ERROR_CLASSES`);
  if (list.flags & ts.SymbolFlags.Alias) list = checker.getAliasedSymbol(list);
  let init =
    list.valueDeclaration && ts.isVariableDeclaration(list.valueDeclaration) && list.valueDeclaration.initializer;
  while (init && (ts.isAsExpression(init) || ts.isParenthesizedExpression(init))) init = init.expression;
  if (!init || !ts.isArrayLiteralExpression(init)) throw new Error('ERROR_CLASSES is not an array literal');
  return init.elements.map((element) => {
    let cls = checker.getSymbolAtLocation(element);
    if (cls && cls.flags & ts.SymbolFlags.Alias) cls = checker.getAliasedSymbol(cls);
    const decl = cls?.valueDeclaration;
    if (!cls || !decl || !ts.isClassDeclaration(decl)) throw new Error(`${element.getText()} is not a class`);
    const parent = decl.heritageClauses?.[0]?.types[0]?.expression.getText() ?? '';
    return { name: cls.name, parent, meaning: markdown(cls.getDocumentationComment(checker)).replace(/ ```.*$/, '') };
  });
}

/** A table cell: one line, with the characters that would end the cell or the row escaped. */
const cell = (text: string): string => text.replaceAll('\\', '\\\\').replaceAll('|', '\\|');

/** The table of codes; a "what to do" column once any code has a `@fix` block. */
export function renderTable(codes: ErrorCodeDoc[]): string {
  const withFix = codes.some((c) => c.fix);
  const head = withFix
    ? ['| code | meaning | what to do |', '| --- | --- | --- |']
    : ['| code | meaning |', '| --- | --- |'];
  const rows = codes.map((c) => {
    const cells = [`\`${c.code}\``, cell(c.meaning || '(undocumented)'), ...(withFix ? [cell(c.fix ?? '')] : [])];
    return `| ${cells.join(' | ')} |`;
  });
  return [...head, ...rows].join('\n');
}

/** The whole page. */
export function renderErrorsDoc({ codes, classes, source }: ErrorCodes): string {
  return `# Error codes

<!-- Written by scripts/gen-errors-doc.ts from the doc comments of VfioErrorCode in ${source}:
edit those, then run npm run docs. test/repo/docs.test.ts fails when this page is out of date. -->

Every error the library throws has a stable \`code\`, Node style, from the table below. The codes
are exported as \`VfioErrorCode\`, each under its name without the prefix
(\`VfioErrorCode.OUT_OF_RANGE\` is \`'ERR_VFIO_OUT_OF_RANGE'\`), and \`isVfioError(e)\` tells the
library's errors from others. A wrong type is a \`TypeError\` (\`VfioTypeError\`) and a wrong value
a \`RangeError\` (\`VfioRangeError\`), as in Node; the message names the resource, the cause and
the fix. A code is part of the API: renaming or removing one is a breaking change.

\`\`\`ts
import { openDevice, isVfioError, VfioErrorCode } from 'vfio-ts';

const dev = openDevice('00:03.0');
try {
  dev.bar(0).read32(0x100000); // edu's BAR0 is 1 MiB: this is one past its end
} catch (e) {
  if (!isVfioError(e) || e.code !== VfioErrorCode.OUT_OF_RANGE) throw e;
  console.log(e.code); // ERR_VFIO_OUT_OF_RANGE
} finally {
  dev.close();
}
\`\`\`

\`\`\`js
import { openDevice, isVfioError, VfioErrorCode } from 'vfio-ts';

const dev = openDevice('00:03.0');
try {
  dev.bar(0).read32(0x100000); // edu's BAR0 is 1 MiB: this is one past its end
} catch (e) {
  if (!isVfioError(e) || e.code !== VfioErrorCode.OUT_OF_RANGE) throw e;
  console.log(e.code); // ERR_VFIO_OUT_OF_RANGE
} finally {
  dev.close();
}
\`\`\`

The \`vfio\` command prints the library's errors as \`error [CODE]: message\` and exits with 1
([the \`vfio\` command](cli.md)).

## The codes

${renderTable(codes)}

## The classes

Every class is exported from \`vfio-ts\` (and \`vfio-ts/structs\`) and listed in \`ERROR_CLASSES\`.
\`e instanceof VfioError\` holds for each of them, and each has its own \`name\`, so an error
prints as \`VfioRangeError: ...\` or \`SysError: ...\`.

| class | extends | what it is |
| --- | --- | --- |
${classes.map((c) => `| \`${c.name}\` | \`${c.parent}\` | ${cell(c.meaning)} |`).join('\n')}

## Failed system calls: \`SysError\`

A failing system call throws \`SysError\` (a code from the table: \`ERR_VFIO_PERMISSION\`,
\`ERR_VFIO_GROUP_BUSY\`, \`ERR_VFIO_MEMLOCK\`, \`ERR_VFIO_DMA_LIMIT\`, ..., or \`ERR_VFIO_SYSCALL\`)
with the kernel's answer on \`errno\` (16) and \`errnoName\` (\`EBUSY\`), and \`syscall\`
(\`ioctl(VFIO_GROUP_GET_STATUS)\`), \`target\` (the path or device) and \`hint\`, all in the
message. A busy group or cdev names who holds it, where the kernel lets this process see
(\`/proc/PID/fd\`; another user's processes only as root):

\`\`\`
open on /dev/vfio/3 failed: EBUSY (errno 16, Device or resource busy). IOMMU group 3 is already open,
held by pid 812 (node): a group is open in one place at a time; close it there first (in this process:
close the other Container or device)
\`\`\`

Nothing in the library calls \`process.exit\`, and a failed call leaves nothing behind (no fd,
mapping, pinned memory or eventfd).
`;
}

/** The page as the code describes it now. */
export function errorsDoc(repo = REPO): string {
  return renderErrorsDoc(readErrorCodes(repo));
}

function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isMain()) {
  const page = join(REPO, ERRORS_PAGE);
  const text = errorsDoc();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(page, 'utf8');
    } catch {
      // A missing page differs.
    }
    if (current !== text) {
      console.error(`${ERRORS_PAGE} is out of date: run npm run docs`);
      process.exitCode = 1;
    }
  } else {
    writeFileSync(page, text);
    console.log(`wrote ${ERRORS_PAGE}`);
  }
}
