import { CST, Lexer } from 'yaml';
import { errors } from '../status';

/**
 * The deepest nesting a request body may have. Kubernetes objects nest a few dozen levels at
 * most; the YAML parser overflows its stack near 1,000 flow levels and runs out of memory near
 * 2,000, and the master's own recursive code (patches, field sets, cloning) walks whatever was
 * decoded.
 */
export const maxNestingDepth = 200;
/** Block nesting follows indentation: deeper indentation than this is refused before parsing. */
const maxIndent = 2 * maxNestingDepth;

/**
 * Refuses YAML that nests too deep before the (recursive) composer sees it. The lexer is
 * iterative and stops at the first token over the limit, so a 100k-deep document costs a few
 * hundred tokens. Flow brackets are counted exactly; block nesting is bounded by indentation and
 * the indicators (`- `, `? `, `: `) on one line. checkValueDepth applies the exact limit after.
 */
export function checkYamlDepth(text: string): void {
  let flow = 0;
  let indicators = 0;
  let lineStart = true;
  for (const token of new Lexer().lex(text)) {
    switch (CST.tokenType(token)) {
      case 'flow-map-start':
      case 'flow-seq-start':
        if (++flow > maxNestingDepth) throw tooDeep('YAML');
        break;
      case 'flow-map-end':
      case 'flow-seq-end':
        flow = Math.max(0, flow - 1);
        break;
      case 'seq-item-ind':
      case 'explicit-key-ind':
      case 'map-value-ind':
        if (++indicators > maxNestingDepth) throw tooDeep('YAML');
        break;
      case 'space':
        if (lineStart && token.length > maxIndent) throw tooDeep('YAML');
        break;
      case 'newline':
        indicators = 0;
        lineStart = true;
        continue;
    }
    lineStart = false;
  }
}

/** Refuses a decoded value nested too deep; iterative, so any depth is safe to measure. */
export function checkValueDepth(value: unknown, format: string): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue; // a YAML document of only a comment is null
    if (depth > maxNestingDepth) throw tooDeep(format);
    for (const child of Object.values(v as Record<string, unknown>)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
}

function tooDeep(format: string): Error {
  return errors.badRequest(`the ${format} body nests deeper than ${maxNestingDepth} levels, the limit for a request (Kubernetes objects need far fewer)`);
}
