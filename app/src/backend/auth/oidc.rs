//! OpenID Connect sign-in against Entra ID (or any provider issuing Entra-shaped tokens):
//! discovery, authorization code + PKCE, state, nonce, and ID-token validation.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use openidconnect::{
    core::{
        CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
        CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm, CoreRevocableToken, CoreRevocationErrorResponse,
        CoreTokenIntrospectionResponse, CoreTokenType,
    },
    AdditionalClaims, AuthorizationCode, ClaimsVerificationError, Client, ClientId, ClientSecret,
    CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields,
    IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadataWithLogout, RedirectUrl,
    Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;
use url::Url;
use uuid::Uuid;

use crate::backend::config::OidcSettings;

/// The Entra ID claims Gatehouse reads besides the standard ones.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct EntraClaims {
    pub tid: Option<String>,
    pub oid: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    /// Present instead of `groups` when the person is in more groups than a token holds
    /// (`{"groups": "src1"}`); its `_claim_sources` endpoint is never called.
    #[serde(default, rename = "_claim_names")]
    pub claim_names: Option<serde_json::Value>,
    /// The implicit flow's way of saying the same.
    #[serde(default)]
    pub hasgroups: Option<bool>,
}
impl AdditionalClaims for EntraClaims {}

impl EntraClaims {
    /// The token's groups claim overflowed: the groups must be read from Microsoft Graph.
    pub fn groups_overage(&self) -> bool {
        self.hasgroups == Some(true)
            || self
                .claim_names
                .as_ref()
                .is_some_and(|names| names.get("groups").is_some())
    }
}

type EntraIdTokenFields = IdTokenFields<
    EntraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type EntraTokenResponse = StandardTokenResponse<EntraIdTokenFields, CoreTokenType>;
type EntraClient = Client<
    EntraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    EntraTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What a sign-in in progress keeps in the session between `/auth/login` and `/auth/callback`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next: String,
}

/// A person whose ID token passed every check.
#[derive(Clone, Debug)]
pub struct VerifiedIdentity {
    pub tid: Uuid,
    pub oid: Uuid,
    pub display_name: String,
    pub username: String,
    pub groups: Vec<String>,
    /// The token named no groups because there were too many (see [`EntraClaims::groups_overage`]).
    pub groups_overage: bool,
    pub app_roles: Vec<String>,
    pub id_token: String,
}

/// Why a sign-in was refused. `code` goes to the audit log; `message` to the person.
#[derive(Debug, thiserror::Error)]
pub enum SignInRefusal {
    #[error("the sign-in response did not match the sign-in this browser started")]
    StateMismatch,
    #[error("no sign-in was in progress in this browser (or it took too long)")]
    NoPendingLogin,
    #[error("the identity provider answered: {0}")]
    ProviderError(String),
    #[error("the identity provider could not be reached: {0}")]
    ProviderUnavailable(String),
    #[error("the sign-in code could not be exchanged for a token: {0}")]
    TokenExchange(String),
    #[error("the identity provider sent no ID token")]
    NoIdToken,
    #[error("the ID token was refused ({kind}): {detail}")]
    InvalidToken { kind: &'static str, detail: String },
    #[error("the ID token lacks the `{0}` claim or it is not a GUID")]
    MissingClaim(&'static str),
    #[error("your organisation (tenant {0}) is not allowed to use this Gatehouse")]
    TenantNotAllowed(Uuid),
}

impl SignInRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            SignInRefusal::StateMismatch => "state_mismatch",
            SignInRefusal::NoPendingLogin => "no_pending_login",
            SignInRefusal::ProviderError(_) => "provider_error",
            SignInRefusal::ProviderUnavailable(_) => "provider_unavailable",
            SignInRefusal::TokenExchange(_) => "token_exchange_failed",
            SignInRefusal::NoIdToken => "no_id_token",
            SignInRefusal::InvalidToken { kind, .. } => kind,
            SignInRefusal::MissingClaim(_) => "missing_claim",
            SignInRefusal::TenantNotAllowed(_) => "tenant_not_allowed",
        }
    }
}

fn token_refusal(err: &ClaimsVerificationError) -> SignInRefusal {
    let kind = match err {
        ClaimsVerificationError::Expired(_) => "token_expired",
        ClaimsVerificationError::InvalidAudience(_) => "wrong_audience",
        ClaimsVerificationError::InvalidIssuer(_) => "wrong_issuer",
        ClaimsVerificationError::InvalidNonce(_) => "bad_nonce",
        ClaimsVerificationError::SignatureVerification(_) => "bad_signature",
        _ => "invalid_token",
    };
    SignInRefusal::InvalidToken {
        kind,
        detail: err.to_string(),
    }
}

struct Discovered {
    client: EntraClient,
    end_session: Option<Url>,
    at: Instant,
}

/// The provider's metadata and keys are re-read after this long, and at once when a token is
/// signed with a key we do not know yet (Entra ID rotates its keys).
const DISCOVERY_TTL: Duration = Duration::from_secs(600);

pub struct Oidc {
    settings: OidcSettings,
    redirect_url: RedirectUrl,
    http: reqwest::Client,
    discovered: RwLock<Option<Arc<Discovered>>>,
}

impl Oidc {
    pub fn new(settings: OidcSettings, base_url: &Url) -> anyhow::Result<Self> {
        let redirect_url = RedirectUrl::new(base_url.join("/auth/callback")?.to_string())?;
        let http = reqwest::Client::builder()
            // Following redirects would expose the token exchange to SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .build()?;
        Ok(Self {
            settings,
            redirect_url,
            http,
            discovered: RwLock::new(None),
        })
    }

    pub fn allowed_tenants(&self) -> &[Uuid] {
        &self.settings.allowed_tenants
    }

    async fn discovered(&self, refresh: bool) -> Result<Arc<Discovered>, SignInRefusal> {
        if !refresh {
            if let Some(d) = self.discovered.read().await.as_ref() {
                if d.at.elapsed() < DISCOVERY_TTL {
                    return Ok(d.clone());
                }
            }
        }
        let issuer = IssuerUrl::new(
            self.settings
                .issuer
                .as_str()
                .trim_end_matches('/')
                .to_string(),
        )
        .map_err(|e| SignInRefusal::ProviderUnavailable(e.to_string()))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| SignInRefusal::ProviderUnavailable(error_chain(&e)))?;
        let end_session = metadata
            .additional_metadata()
            .end_session_endpoint
            .as_ref()
            .map(|u| u.url().clone());
        let client = EntraClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(
                self.settings.client_secret.expose().to_string(),
            )),
        )
        .set_redirect_uri(self.redirect_url.clone());
        let fresh = Arc::new(Discovered {
            client,
            end_session,
            at: Instant::now(),
        });
        *self.discovered.write().await = Some(fresh.clone());
        Ok(fresh)
    }

    /// Where to send the browser to sign in, and what to remember until it comes back.
    pub async fn begin(
        &self,
        next: String,
        login_hint: Option<&str>,
        select_account: bool,
    ) -> Result<(Url, PendingLogin), SignInRefusal> {
        let d = self.discovered(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = d
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge);
        if let Some(hint) = login_hint {
            request = request.add_extra_param("login_hint", hint.to_string());
        }
        // After a refusal for the account used, let the person pick another one.
        if select_account {
            request = request.add_prompt(openidconnect::core::CoreAuthPrompt::SelectAccount);
        }
        let (url, state, nonce) = request.url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            next,
        };
        Ok((url, pending))
    }

    /// Exchanges the code and checks the ID token: signature (JWKS), issuer, audience, expiry,
    /// nonce, then the tenant allow-list.
    pub async fn finish(
        &self,
        pending: PendingLogin,
        code: String,
    ) -> Result<VerifiedIdentity, SignInRefusal> {
        let d = self.discovered(false).await?;
        let response = d
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| SignInRefusal::TokenExchange(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| SignInRefusal::TokenExchange(error_chain(&e)))?;
        let id_token = response.id_token().ok_or(SignInRefusal::NoIdToken)?;
        let nonce = Nonce::new(pending.nonce);

        let verified = match id_token.claims(&d.client.id_token_verifier(), &nonce) {
            Ok(claims) => claims.clone(),
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                // Perhaps the provider rotated its keys: read them again, once.
                let fresh = self.discovered(true).await?;
                let verifier = fresh.client.id_token_verifier();
                let claims = id_token
                    .claims(&verifier, &nonce)
                    .map_err(|e| token_refusal(&e))?;
                claims.clone()
            }
            Err(e) => return Err(token_refusal(&e)),
        };

        let extra = verified.additional_claims();
        let tid = guid_claim(extra.tid.as_deref(), "tid")?;
        let oid = guid_claim(extra.oid.as_deref(), "oid")?;
        if !self.settings.allowed_tenants.contains(&tid) {
            return Err(SignInRefusal::TenantNotAllowed(tid));
        }
        let username = verified
            .preferred_username()
            .map(|u| u.to_string())
            .or_else(|| verified.email().map(|e| e.to_string()))
            .unwrap_or_else(|| oid.to_string());
        let display_name = verified
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string())
            .unwrap_or_else(|| username.clone());
        Ok(VerifiedIdentity {
            tid,
            oid,
            display_name,
            username,
            groups: extra.groups.clone(),
            groups_overage: extra.groups_overage(),
            app_roles: extra.roles.clone(),
            id_token: id_token.to_string(),
        })
    }

    /// The provider's end-session URL for RP-initiated logout, when it has one.
    pub async fn end_session_url(&self, id_token: Option<&str>, after: &Url) -> Option<Url> {
        let d = self.discovered(false).await.ok()?;
        let mut url = d.end_session.clone()?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(token) = id_token {
                q.append_pair("id_token_hint", token);
            }
            q.append_pair("client_id", &self.settings.client_id);
            q.append_pair("post_logout_redirect_uri", after.as_str());
        }
        Some(url)
    }
}

fn guid_claim(value: Option<&str>, name: &'static str) -> Result<Uuid, SignInRefusal> {
    value
        .and_then(|v| Uuid::parse_str(v).ok())
        .ok_or(SignInRefusal::MissingClaim(name))
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
