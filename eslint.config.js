// ESLint (flat config): typescript-eslint's recommended rules, plus the typed
// rules that catch real bugs, on .ts and on the Svelte components. Formatting
// is Prettier's job (`npm run format`), so no stylistic rules here.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

export default tseslint.config(
  {
    ignores: ['dist/', 'dist-web/', 'node_modules/', 'guests/build/', '.cache/', 'coverage/'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  svelte.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.node, ...globals.browser },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_`-prefixed names mark a parameter or binding kept on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // It flags every Map, Set and URL made in a .svelte(.ts) file, including
      // the temporaries that are built, read and dropped (all of them here);
      // a Map kept in $state and mutated in place is what it is after, and that
      // is rare enough to review by eye.
      'svelte/prefer-svelte-reactivity': 'off',
    },
  },
  {
    // Typed linting: the TypeScript project service answers for each file.
    files: ['**/*.ts', '**/*.svelte'],
    languageOptions: {
      parserOptions: {
        // vite.config.ts is outside tsconfig.json (it imports a .js plugin).
        projectService: { allowDefaultProject: ['vite.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.svelte'],
      },
    },
    rules: {
      // A switch over a union must name every member. A `default:` does not
      // count as covering the missing ones (considerDefaultExhaustiveForUnions:
      // false), so adding a member to a union flags every switch that forgot it;
      // a `default:` is still allowed for values that come from outside.
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        {
          considerDefaultExhaustiveForUnions: false,
          allowDefaultCaseForExhaustiveSwitch: true,
          requireDefaultForNonUnion: false,
        },
      ],
      // From recommendedTypeChecked, only the rules about real mistakes (a
      // promise nobody waits for or catches, a thrown or rejected non-Error,
      // "[object Object]" in a string, for-in over an array), not its
      // cosmetic ones.
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-array-delete': 'error',
      '@typescript-eslint/no-base-to-string': 'error',
      '@typescript-eslint/no-duplicate-type-constituents': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-for-in-array': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      // Passing on a caught `unknown` is fine; rejecting with a made-up non-Error is not.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/restrict-plus-operands': 'error',
    },
  },
  {
    // Tests build malformed input on purpose (a .vmi manifest to corrupt, a
    // message of the wrong shape), where `any` is the honest type.
    files: ['tests/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: {
        parser: tseslint.parser,
        svelteConfig,
      },
    },
  },
);
