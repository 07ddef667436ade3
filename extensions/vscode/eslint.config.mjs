// Lint: typescript-eslint's recommended type-checked rules, warnings are errors (see package.json).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["out/**", "dist/**", "node_modules/**", "media/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      eqeqeq: ["error", "always"],
      curly: ["error", "multi-line"],
    },
  },
  {
    // Generated from the server's types (server/lsp/src/protocol.rs) with a blanket
    // `eslint-disable`; it is regenerated, never edited here, so an unused directive is no finding.
    files: ["src/generated/**"],
    linterOptions: { reportUnusedDisableDirectives: "off" },
  },
  {
    // node:test's describe/it return promises the runner awaits itself.
    files: ["src/test/**/*.ts"],
    rules: { "@typescript-eslint/no-floating-promises": "off" },
  },
);
