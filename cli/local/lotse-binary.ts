import fs from 'node:fs';
import path from 'node:path';

/** bin/lotse of this package, so the cluster's processes run the same build as `lotse up`. */
export function lotseBinary(): string {
  // dist/cli/local/*.js and cli/local/*.ts sit at different depths below the package root.
  for (const up of ['../..', '../../..']) {
    const candidate = path.resolve(__dirname, up, 'bin', 'lotse');
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`cannot find bin/lotse above ${__dirname}: reinstall lotse (npm run build in its checkout)`);
}

/**
 * Node arguments that run `lotse <component> ...`: the compiled component entry when it exists
 * (it loads only that command), else bin/lotse.
 */
export function componentCommand(component: 'master' | 'agent'): string[] {
  const entry = path.join(__dirname, 'component-main.js');
  return fs.existsSync(entry) ? [entry, component] : [lotseBinary(), component];
}
