/** jest runs the TypeScript units (API client, form checks, rendering helpers) in jsdom. */
module.exports = {
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/test'],
  testRegex: '.*\\.spec\\.ts$',
  setupFiles: ['<rootDir>/jest.setup.js'],
  // JupyterLab's dialogs ship as ES modules jest does not load; the units never open one
  moduleNameMapper: { '^@jupyterlab/apputils$': '<rootDir>/test/stubs/apputils.ts' },
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] }
};
