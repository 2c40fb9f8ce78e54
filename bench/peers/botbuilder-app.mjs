// A Bot Framework bot doing ChatBot's Teams job the documented way: CloudAdapter + ConfigurationBotFrameworkAuthentication
// validate the channel's JWT (OpenID metadata and keys from BOT_OPENID_METADATA), the ActivityHandler sends a typing
// indicator, asks the model and sends the answer. The only departure: bot-to-connector tokens come from the fake's
// token endpoint through a ServiceClientCredentialsFactory (the SDK's extension point), because MSAL accepts only
// https authorities and the fake Entra ID is plain http on loopback.
// Served with Express, as the SDK's samples do.
// Env: PORT, APP_ID, APP_PASSWORD, BOT_OPENID_METADATA, TOKEN_ENDPOINT, MODEL_URL.
import botbuilder from 'botbuilder';
import express from 'express';
import connector from 'botframework-connector';
import { streamAnswer } from './model.mjs';

const { ActivityHandler, CloudAdapter, ConfigurationBotFrameworkAuthentication } = botbuilder;
const { ServiceClientCredentialsFactory } = connector;

class FakeEntraCredentials {
  constructor(appId, password) { this.appId = appId; this.password = password; this.token = null; this.expires = 0; }
  async getToken() {
    if (this.token && Date.now() < this.expires) return this.token;
    const response = await fetch(process.env.TOKEN_ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: this.appId, client_secret: this.password, scope: 'https://api.botframework.com/.default' }),
    });
    const body = await response.json();
    this.token = body.access_token;
    this.expires = Date.now() + (body.expires_in - 300) * 1000;
    return this.token;
  }
  async signRequest(webResource) {
    webResource.headers.set('Authorization', `Bearer ${await this.getToken()}`);
    return webResource;
  }
}

class FakeEntraCredentialsFactory extends ServiceClientCredentialsFactory {
  constructor(appId, password) { super(); this.appId = appId; this.credentials = new FakeEntraCredentials(appId, password); }
  async isValidAppId(appId) { return appId === this.appId; }
  async isAuthenticationDisabled() { return false; }
  async createCredentials() { return this.credentials; }
}

// Naming one endpoint makes the SDK take every public-cloud value from this object, so all of them are spelled out;
// only the OpenID metadata points at the fake.
const authentication = new ConfigurationBotFrameworkAuthentication(
  {
    MicrosoftAppId: process.env.APP_ID,
    MicrosoftAppType: 'MultiTenant',
    ToBotFromChannelOpenIdMetadataUrl: process.env.BOT_OPENID_METADATA,
    ToBotFromChannelTokenIssuer: 'https://api.botframework.com',
    ToBotFromEmulatorOpenIdMetadataUrl: 'https://login.microsoftonline.com/botframework.com/v2.0/.well-known/openid-configuration',
    ToChannelFromBotLoginUrl: 'https://login.microsoftonline.com/botframework.com',
    ToChannelFromBotOAuthScope: 'https://api.botframework.com',
    OAuthUrl: 'https://api.botframework.com',
    CallerId: 'urn:botframework:azure',
    ValidateAuthority: true,
  },
  new FakeEntraCredentialsFactory(process.env.APP_ID, process.env.APP_PASSWORD));
const adapter = new CloudAdapter(authentication);
adapter.onTurnError = async (context, error) => { console.error(error); };

class AnswerBot extends ActivityHandler {
  constructor() {
    super();
    this.onMessage(async (context, next) => {
      await context.sendActivity({ type: 'typing' });
      const answer = await streamAnswer(process.env.MODEL_URL, context.activity.text ?? '', async () => {});
      await context.sendActivity(answer);
      await next();
    });
  }
}

const bot = new AnswerBot();
const server = express();
server.use(express.json({ limit: '1mb' }));
server.post('/api/messages', (req, res) => adapter.process(req, res, context => bot.run(context)));
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`botbuilder peer listening on ${process.env.PORT}`));
