// Validates a Teams app manifest against the official schema bundled in @microsoft/app-manifest (offline).
// Usage: node teams-manifest-check.mjs <manifest.json>   Prints a JSON array of schema errors ([] when valid).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { AppManifestUtils } = require('@microsoft/app-manifest');

const manifest = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const version = manifest.manifestVersion;
const schema = JSON.parse(readFileSync(require.resolve(`@microsoft/app-manifest/build/json-schemas/teams/v${version}/MicrosoftTeams.schema.json`), 'utf8'));
const errors = await AppManifestUtils.validateAgainstSchema(manifest, schema);
console.log(JSON.stringify(errors));
