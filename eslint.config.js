// Lint rules: typescript-eslint's recommended set, plus the house rule that imports follow the
// data flow hardware → device → gateway → cloud (a folder never imports from one downstream of it).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const flow = ['hardware', 'device', 'gateway', 'cloud'];
const downstreamOf = (folder) => flow.slice(flow.indexOf(folder) + 1);

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
  ...flow.slice(0, -1).map((folder) => ({
    files: [`${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: downstreamOf(folder).map((d) => ({
            group: [`**/${d}/**`, `../${d}/*`, `../../${d}/*`],
            message: `${folder}/ is upstream of ${d}/: imports follow hardware → device → gateway → cloud.`,
          })),
        },
      ],
    },
  })),
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
