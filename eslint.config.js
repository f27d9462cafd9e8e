// Lint rules: typescript-eslint's recommended set, plus two house rules on imports:
// - imports follow the data flow hardware → device → gateway → cloud (a folder never imports from one
//   downstream of it);
// - code that ships never imports a devDependency: deploy.sh installs with `npm ci --omit=dev`, so such
//   an import fails only on the installed Pi or server (issue 9, defect 6: `hedgerow cloud apply` and
//   @aws-sdk/client-iotanalytics). test/ may import them.
import { readFileSync } from 'node:fs';
import { URL } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const flow = ['hardware', 'device', 'gateway', 'cloud'];
const downstreamOf = (folder) => flow.slice(flow.indexOf(folder) + 1);
/** Every folder whose code an installed package runs. */
const sourceFolders = ['bin', ...flow];

const { devDependencies = {} } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const devOnly = Object.keys(devDependencies);
const devOnlyMessage = (name) =>
  `${name} is a devDependency, missing from an \`npm ci --omit=dev\` install (deploy.sh): use a package from dependencies, or move this code to test/.`;
const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The package itself by name, and any file in it (`vitest/config`, `@smithy/hash-node/dist-cjs/...`). */
const devOnlyImports = {
  paths: devOnly.map((name) => ({ name, message: devOnlyMessage(name) })),
  patterns: devOnly.map((name) => ({ regex: `^${escapeRegex(name)}/`, message: devOnlyMessage(name) })),
  // no-restricted-imports does not look at import(): cli.ts loads most modules that way. (A selector's
  // regex is written with \x2F for '/', so the /regex/ literal holds no slash.)
  dynamic: devOnly.map((name) => ({
    selector: `ImportExpression[source.value=/^${escapeRegex(name).replaceAll('/', '\\x2F')}(\\x2F|$)/]`,
    message: devOnlyMessage(name),
  })),
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // One no-restricted-imports per folder: a later config object's options would replace, not add to, these.
  ...sourceFolders.map((folder) => ({
    files: [`${folder}/**/*.{ts,mts,cts,js,mjs,cjs}`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: devOnlyImports.paths,
          patterns: [
            ...devOnlyImports.patterns,
            ...(flow.includes(folder) ? downstreamOf(folder) : []).map((d) => ({
              group: [`**/${d}/**`, `../${d}/*`, `../../${d}/*`],
              message: `${folder}/ is upstream of ${d}/: imports follow hardware → device → gateway → cloud.`,
            })),
            // bin/ composes processes from every folder; nothing in the flow may depend on it.
            ...(flow.includes(folder)
              ? [{ group: ['**/bin/*', '../bin/*', '../../bin/*', '../../../bin/*'], message: `${folder}/ may not import bin/: bin/ holds the composition roots, which import the layers, never the reverse.` }]
              : []),
          ],
        },
      ],
      'no-restricted-syntax': ['error', ...devOnlyImports.dynamic],
    },
  })),
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
