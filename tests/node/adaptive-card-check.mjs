// Validates Adaptive Cards with Microsoft's own renderer library (adaptivecards, no DOM needed for parsing).
// Usage: node adaptive-card-check.mjs <cards.json>   (a JSON array of cards)
// Prints one JSON array per card: the parse and validation errors ([] when the card is valid).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AC = require('adaptivecards/dist/adaptivecards.min.js');

const cards = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const results = cards.map((json) => {
  const errors = [];
  if (json.type !== 'AdaptiveCard') errors.push(`type is ${json.type}, not AdaptiveCard`);
  if (!(parseFloat(json.version) <= 1.5)) errors.push(`version ${json.version} is above 1.5, which Teams renders`);
  const card = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  card.parse(json, context);
  for (let i = 0; i < context.eventCount; i++) {
    const e = context.getEventAt(i);
    errors.push(`${AC.ValidationEvent[e.event]}: ${e.message}`);
  }
  for (const e of card.validateProperties().validationEvents) {
    errors.push(`${AC.ValidationEvent[e.event]}: ${e.message}`);
  }
  return errors;
});
console.log(JSON.stringify(results));
