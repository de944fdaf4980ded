// Reads the descriptions that @kubernetes/client-node keeps as JSDoc in its generated model
// declarations (dist/gen/models/V1PodSpec.d.ts): one comment above the class and one above each
// field. The format is the OpenAPI generator's and perfectly regular, so a line-based parse is
// enough and no TypeScript parser is needed:
//   /**
//   * List of containers belonging to the pod. ...
//   */
//   'containers': Array<V1Container>;
import { existsSync, readFileSync } from 'node:fs';

const classLine = /^export declare class \w+\b/;
const fieldLine = /^'([^']+)'\??:/;

/** The generator escapes quotes and backslashes inside comments; the API's text has neither escaped. */
const unescape = (text) => text.replace(/\\(["'\\])/g, '$1');

/**
 * @param {string} file path of a model's .d.ts
 * @returns {Map<string, string>} "" for the class, else the TypeScript field name, to its description
 */
export function modelDescriptions(file) {
  const out = new Map();
  if (!existsSync(file)) return out;
  let comment = null; // lines of the comment being read, or of the one just closed
  let open = false;
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '/**') {
      comment = [];
      open = true;
    } else if (open && line === '*/') {
      open = false;
    } else if (open) {
      comment.push(line.replace(/^\* ?/, ''));
    } else if (comment) {
      const text = unescape(comment.join(' ').trim());
      const field = fieldLine.exec(line);
      if (text && classLine.test(line)) out.set('', text);
      else if (text && field) out.set(field[1], text);
      comment = null; // a comment describes only the line right after it (the file header does not)
    }
  }
  return out;
}
