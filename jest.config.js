// NestJS 12 (and json-schema-ref-parser) ship as ES modules; Jest's CommonJS runtime on Node 20 cannot require(esm),
// so the @nestjs packages are compiled to CommonJS by swc like our own sources.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];
module.exports = {
  testEnvironment: 'node',
  testTimeout: 30000,
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testRegex: '\\.(spec|e2e-spec)\\.ts$',
  transform: { '^.+\\.ts$': swc, '^.+\\.m?js$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|@apidevtools/json-schema-ref-parser)/)'],
};
