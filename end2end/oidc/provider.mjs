// A real OpenID Connect provider (npm `oidc-provider`) for the local stack and the tests. It
// issues Entra-ID-shaped ID tokens (issuer `…/{tenant}/v2.0`, tid, oid, groups, roles) for the
// demo users. A person picks a demo user on its sign-in page; tests pass `login_hint` instead.
//
// Test-only faults: a login_hint of `admin~wrong_audience` (or expired, bad_nonce, tampered,
// wrong_issuer) signs in `admin` and then spoils that one ID token in the named way, so the
// relying party's refusals can be tested against real tokens without touching shared state.
//
// Environment: OIDC_PORT (9400; 0 picks a free one), OIDC_CLIENT_ID, OIDC_CLIENT_SECRET.
// With --exit-with-stdin it stops when its standard input closes (so tests never leak it).
import http from 'node:http';
import { generateKeyPair, exportJWK, SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import Provider, { errors } from 'oidc-provider';
import { TENANT_ID, OTHER_TENANT_ID, USERS, findUser } from './demo-users.mjs';

const port = Number(process.env.OIDC_PORT ?? 9400);
const clientId = process.env.OIDC_CLIENT_ID ?? 'gatehouse';
const clientSecret = process.env.OIDC_CLIENT_SECRET ?? 'gatehouse-demo-secret';
const FAULTS = ['wrong_audience', 'expired', 'bad_nonce', 'tampered', 'wrong_issuer'];
// APIs behind Gatehouse's authorizer: an access token for one of them is a JWT whose audience
// is the resource (as Entra ID's for an API's app id URI), carrying the person's groups.
const RESOURCES = ['api://gatehouse-apis', 'api://some-other-api'];

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: 'demo-key-1', alg: 'RS256', use: 'sig' };

function parseAccountId(id) {
  const [key, fault] = String(id).split('~');
  return { user: findUser(key), fault: FAULTS.includes(fault) ? fault : undefined };
}

const server = http.createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;
const prefix = `/${TENANT_ID}/v2.0`;
const issuer = `${origin}${prefix}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: ['http://127.0.0.1:3000/auth/callback'],
    post_logout_redirect_uris: ['http://127.0.0.1:3000/auth/signed-out'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }, {
    // A public client (a CLI, a single-page app) that asks for access tokens to call APIs.
    client_id: 'gatehouse-cli',
    redirect_uris: ['http://127.0.0.1/cli/callback'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  }],
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['gatehouse-demo-cookie-key'] },
  pkce: { required: () => true },
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub', 'tid', 'oid', 'groups', 'roles', 'hasgroups', 'demo_fault'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
  },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true, logoutSource },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        if (!RESOURCES.includes(resource)) throw new errors.InvalidTarget();
        return { scope: 'access', audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
  // Entra-shaped claims in API access tokens: who (oid, upn, name), which tenant, which groups
  // (or the overage pointer instead), which app roles.
  async extraTokenClaims(ctx, token) {
    if (token.kind !== 'AccessToken' || !token.resourceServer) return undefined;
    const { user } = parseAccountId(token.accountId);
    if (!user) return undefined;
    const tid = user.tid ?? TENANT_ID;
    const groups = user.overage ? { _claim_names: { groups: 'src1' }, hasgroups: true } : { groups: user.groups };
    return { ver: '2.0', tid, oid: user.oid, upn: user.email, preferred_username: user.email, name: user.name, roles: user.roles, ...groups };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const { user, fault } = parseAccountId(id);
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        const tid = user.tid ?? TENANT_ID;
        // Entra ID's overage shape: no groups, a pointer to where they could be read instead.
        const groups = user.overage
          ? {
            _claim_names: { groups: 'src1' },
            _claim_sources: { src1: { endpoint: `https://graph.windows.net/${tid}/users/${user.oid}/getMemberObjects` } },
          }
          : { groups: user.groups };
        return {
          sub: user.oid, tid, oid: user.oid, name: user.name,
          preferred_username: user.email, email: user.email, roles: user.roles, ...groups,
          ...(fault ? { demo_fault: fault } : {}),
        };
      },
    };
  },
  // First-party demo: consent is implied.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile email');
    const resource = ctx.oidc.params?.resource;
    if (RESOURCES.includes(resource)) grant.addResourceScope(resource, 'access');
    await grant.save();
    return grant;
  },
  ttl: { IdToken: 3600, AccessToken: 3600, Session: 8 * 3600, Interaction: 600, Grant: 8 * 3600 },
});

// Gatehouse listens on a different loopback port in each test: allow any port on 127.0.0.1
// for the registered paths, as RFC 8252 does for native clients.
const loopback = (uri) => {
  try {
    const u = new URL(uri);
    if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') return undefined;
    return `${u.protocol}//${u.hostname}${u.pathname}${u.search}`;
  } catch { return undefined; }
};
const allowLoopback = (value, allowed) => allowed.includes(value)
  || (loopback(value) !== undefined && allowed.some((a) => loopback(a) === loopback(value)));
provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(value) {
  return allowLoopback(value, this.redirectUris);
};
provider.Client.prototype.postLogoutRedirectUriAllowed = function postLogoutRedirectUriAllowed(value) {
  return allowLoopback(value, this.postLogoutRedirectUris ?? []);
};

// Spoil the ID token of a faulty demo sign-in (marked by the `demo_fault` claim, which is then
// removed), re-signing with the real key unless the fault is the signature itself.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/token' || ctx.status !== 200 || !ctx.body?.id_token) return;
  const token = ctx.body.id_token;
  const claims = decodeJwt(token);
  const fault = claims.demo_fault;
  if (!fault) return;
  const now = Math.floor(Date.now() / 1000);
  const spoilt = { ...claims };
  delete spoilt.demo_fault;
  if (fault === 'wrong_audience') spoilt.aud = 'some-other-application';
  if (fault === 'expired') { spoilt.iat = now - 7200; spoilt.exp = now - 3600; }
  if (fault === 'bad_nonce') spoilt.nonce = 'not-the-nonce-you-sent';
  if (fault === 'wrong_issuer') spoilt.iss = `${origin}/${OTHER_TENANT_ID}/v2.0`;
  if (fault === 'tampered') {
    const [header, , signature] = token.split('.');
    spoilt.groups = [...(claims.groups ?? []), 'ffffffff-ffff-4fff-bfff-ffffffffffff'];
    const body = Buffer.from(JSON.stringify(spoilt)).toString('base64url');
    ctx.body = { ...ctx.body, id_token: `${header}.${body}.${signature}` };
    return;
  }
  const header = decodeProtectedHeader(token);
  ctx.body = { ...ctx.body, id_token: await new SignJWT(spoilt).setProtectedHeader(header).sign(privateKey) };
});

const handler = provider.callback();

server.on('request', async (req, res) => {
  try {
    if (req.url.startsWith(prefix)) {
      req.originalUrl = req.url;
      req.url = req.url.slice(prefix.length) || '/';
      return handler(req, res);
    }
    const match = req.url.match(/^\/interaction\/([\w-]+)(\/login)?/);
    if (match) return await interaction(req, res, Boolean(match[2]));
    if (req.url === '/' || req.url.startsWith('/?')) {
      return page(res, 200, 'Gatehouse demo sign-in', `<p>Issuer: <code>${issuer}</code></p>`);
    }
    page(res, 404, 'Not found', '<p>Nothing here.</p>');
  } catch (err) {
    console.error(err);
    page(res, 500, 'Error', `<p>${escape(err.message)}</p>`);
  }
});

async function interaction(req, res, posted) {
  const details = await provider.interactionDetails(req, res);
  let accountId;
  if (posted) {
    const body = new URLSearchParams(await readBody(req));
    accountId = findUser(body.get('user'))?.key;
  } else {
    const hint = details.params.login_hint;
    const [key, fault] = String(hint ?? '').split('~');
    if (findUser(key)) accountId = fault ? `${findUser(key).key}~${fault}` : findUser(key).key;
  }
  if (accountId) {
    return provider.interactionFinished(req, res, { login: { accountId, remember: false } }, { mergeWithLastSubmission: false });
  }
  const buttons = USERS.map((u) => `
    <li><button type="submit" name="user" value="${u.key}">
      <strong>${escape(u.name)}</strong><span>${escape(u.email)} — ${escape(u.blurb)}</span>
    </button></li>`).join('');
  page(res, 200, 'Sign in to Gatehouse (demo)', `
    <p>This is the local demo identity provider. Pick a person to sign in as.</p>
    <form method="post" action="/interaction/${details.uid}/login"><ul class="users">${buttons}</ul></form>`);
}

async function logoutSource(ctx, form) {
  ctx.body = pageHtml('Sign out of the demo provider', `
    ${form}
    <p>Gatehouse has signed you out. Also sign out of the demo identity provider?</p>
    <button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
    <button type="submit" form="op.logoutForm">No, stay signed in here</button>`);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk) => { data += chunk; if (data.length > 10000) req.destroy(); });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

function pageHtml(title, body) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
main{max-width:34rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px #0002}
h1{font-size:1.4rem;margin-top:0}ul{list-style:none;padding:0}li{margin:.5rem 0}
button{width:100%;text-align:left;padding:.75rem 1rem;border:1px solid #c9ced8;border-radius:8px;background:#fff;font:inherit;cursor:pointer;margin:.25rem 0}
button:hover,button:focus-visible{border-color:#2557d6;outline:2px solid #2557d6}
button span{display:block;color:#555d6e;font-size:.9rem}code{font-size:.85rem}
</style></head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

function page(res, status, title, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(pageHtml(title, body));
}

console.log(`OIDC_READY ${issuer}`);
if (process.argv.includes('--exit-with-stdin')) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.resume();
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
