// A Slack Bolt app doing ChatBot's Slack job the documented way: Bolt verifies the signature and acknowledges, the
// message listener streams the model's answer into the message's thread with the Web API's chat streamer
// (chat.startStream / appendStream / stopStream).
// Env: PORT, SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_API_URL, MODEL_URL.
import bolt from '@slack/bolt';
import { streamAnswer } from './model.mjs';

const { App, LogLevel } = bolt;
const app = new App({
  signingSecret: process.env.SLACK_SIGNING_SECRET,
  token: process.env.SLACK_BOT_TOKEN,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
  logLevel: LogLevel.ERROR,
});

app.message(async ({ message, client }) => {
  if (message.subtype || !message.text) return;
  const streamer = client.chatStream({ channel: message.channel, thread_ts: message.thread_ts ?? message.ts });
  await streamAnswer(process.env.MODEL_URL, message.text, piece => streamer.append({ markdown_text: piece }));
  await streamer.stop();
});

await app.start(Number(process.env.PORT));
console.log(`bolt peer listening on ${process.env.PORT}`);
