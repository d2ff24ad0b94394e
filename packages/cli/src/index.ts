export { runCli } from './cli.js';
export { type DemoDataOptions, demoDataCommand } from './commands/demo-data.js';
export { type ExportCommandOptions, exportCommand } from './commands/export.js';
export { schemaCommand } from './commands/schema.js';
export { type ScoreLine, type ScoreOptions, scoreCommand } from './commands/score.js';
export {
  type ValidateEpisode,
  type ValidateProblem,
  type ValidateReport,
  validateCommand,
} from './commands/validate.js';
export { CliError, type CliIO } from './io.js';
