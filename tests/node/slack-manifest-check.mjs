// Checks the Slack app manifest against the limits of Slack's manifest schema (as typed in @slack/web-api's
// manifest.ts) and prints it as JSON for the .NET test to compare with what the adapter needs.
// Usage: node slack-manifest-check.mjs <manifest.yaml>   Prints {"errors":[…],"manifest":{…}}.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const manifest = parse(readFileSync(process.argv[2], 'utf8'));
const errors = [];
const check = (ok, message) => { if (!ok) errors.push(message); };
const d = manifest.display_information ?? {};
check(d.name && d.name.length <= 35, 'display_information.name is required, at most 35 characters');
check(!d.description || d.description.length <= 140, 'display_information.description is at most 140 characters');
check(!d.long_description || (d.long_description.length >= 175 && d.long_description.length <= 4000), 'long_description is 175 to 4000 characters');
const f = manifest.features ?? {};
check(!f.bot_user || /^[a-z0-9._-]{1,80}$/.test(f.bot_user.display_name), 'bot_user.display_name is lower-case letters, digits, - _ . (80 at most)');
check(!f.agent_view || (f.agent_view.agent_description ?? '').length <= 300, 'agent_view.agent_description is at most 300 characters');
check(!f.agent_view || (f.agent_view.suggested_prompts ?? []).length <= 4, 'at most 4 suggested prompts');
for (const c of f.slash_commands ?? []) {
  check(/^\/[^\s]{1,31}$/.test(c.command), `slash command ${c.command}: a / and at most 32 characters`);
  check((c.description ?? '').length > 0 && c.description.length <= 2000, `slash command ${c.command}: description required, at most 2000`);
  check((c.usage_hint ?? '').length <= 1000, `slash command ${c.command}: usage_hint at most 1000`);
}
check((f.slash_commands ?? []).length <= 50, 'at most 50 slash commands');
for (const s of f.shortcuts ?? []) {
  check(['message', 'global'].includes(s.type) && s.callback_id.length <= 255 && s.description.length <= 150, `shortcut ${s.name} is malformed`);
}
check((f.shortcuts ?? []).length <= 10, 'at most 10 shortcuts');
check((manifest.settings?.event_subscriptions?.bot_events ?? []).length <= 100, 'at most 100 bot events');
console.log(JSON.stringify({ errors, manifest }));
