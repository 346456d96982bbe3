//! Directory settings: which provider lists the groups, and the Microsoft Graph credentials
//! (also used at sign-in when a token's groups claim overflowed).

use std::{path::PathBuf, sync::Arc, time::Duration};

use clap::Args;
use url::Url;

use super::{
    file::FileDirectory,
    graph::{GraphDirectory, GraphSettings},
    ldap::{LdapDirectory, LdapSettings},
    Directory,
};
use crate::backend::config::{http_url, invalid, missing, required, ConfigError, Secret};

/// Holds the Graph client secret and the LDAP bind password as typed: no `Debug`.
#[derive(Args, Default, Clone)]
pub struct DirectoryArgs {
    /// Where directory groups come from: `file`, `graph` or `ldap` (unset: no group catalog).
    #[arg(long, env = "GATEHOUSE_DIRECTORY", global = true)]
    pub directory: Option<String>,
    /// The JSON file of groups and members, for `GATEHOUSE_DIRECTORY=file`.
    #[arg(long, env = "GATEHOUSE_DIRECTORY_FILE", global = true)]
    pub directory_file: Option<String>,
    /// Entra ID tenant whose groups Microsoft Graph lists.
    #[arg(long, env = "GATEHOUSE_GRAPH_TENANT_ID", global = true)]
    pub graph_tenant_id: Option<String>,
    #[arg(long, env = "GATEHOUSE_GRAPH_CLIENT_ID", global = true)]
    pub graph_client_id: Option<String>,
    #[arg(
        long,
        env = "GATEHOUSE_GRAPH_CLIENT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub graph_client_secret: Option<String>,
    /// Microsoft Graph's base URL (default https://graph.microsoft.com/v1.0).
    #[arg(long, env = "GATEHOUSE_GRAPH_URL", global = true)]
    pub graph_url: Option<String>,
    /// Entra ID's sign-in host for the client-credentials token (default https://login.microsoftonline.com).
    #[arg(long, env = "GATEHOUSE_GRAPH_LOGIN_URL", global = true)]
    pub graph_login_url: Option<String>,
    /// ldap://host:389 or ldaps://host:636
    #[arg(long, env = "GATEHOUSE_LDAP_URL", global = true)]
    pub ldap_url: Option<String>,
    /// Upgrade ldap:// with StartTLS (`true`/`false`). A bind over plain ldap:// without it
    /// sends the password in clear: allowed only with GATEHOUSE_LDAP_ALLOW_PLAINTEXT=true.
    #[arg(long, env = "GATEHOUSE_LDAP_STARTTLS", global = true)]
    pub ldap_starttls: Option<String>,
    /// `true`: allow a bind over plain ldap:// (a test directory on a trusted network only).
    #[arg(long, env = "GATEHOUSE_LDAP_ALLOW_PLAINTEXT", global = true)]
    pub ldap_allow_plaintext: Option<String>,
    #[arg(long, env = "GATEHOUSE_LDAP_BIND_DN", global = true)]
    pub ldap_bind_dn: Option<String>,
    #[arg(
        long,
        env = "GATEHOUSE_LDAP_BIND_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub ldap_bind_password: Option<String>,
    /// Where groups and people are searched, e.g. DC=example,DC=com
    #[arg(long, env = "GATEHOUSE_LDAP_BASE_DN", global = true)]
    pub ldap_base_dn: Option<String>,
    /// Default `(objectClass=group)` (Active Directory).
    #[arg(long, env = "GATEHOUSE_LDAP_GROUP_FILTER", global = true)]
    pub ldap_group_filter: Option<String>,
    /// Default `(&(objectClass=user)(!(objectClass=computer)))` (Active Directory's people).
    #[arg(long, env = "GATEHOUSE_LDAP_USER_FILTER", global = true)]
    pub ldap_user_filter: Option<String>,
    /// The share of known groups (or people), in percent, a full directory listing may remove
    /// before the sync is held back for an admin to confirm (default 10).
    #[arg(long, env = "GATEHOUSE_DIRECTORY_MAX_REMOVAL_PERCENT", global = true)]
    pub directory_max_removal_percent: Option<String>,
}

#[derive(Clone, Debug)]
pub enum DirectoryKind {
    File(PathBuf),
    Graph,
    Ldap(LdapSettings),
}

#[derive(Clone, Debug, Default)]
pub struct DirectorySettings {
    pub kind: Option<DirectoryKind>,
    pub graph: Option<GraphSettings>,
    /// See [`super::guard`].
    pub max_removal_percent: u32,
}

/// The providers built from the settings: the group catalog's, and Graph for sign-in.
#[derive(Clone, Default)]
pub struct Directories {
    pub groups: Option<Arc<Directory>>,
    pub graph: Option<Arc<GraphDirectory>>,
    pub max_removal_percent: u32,
}

impl DirectorySettings {
    pub fn build(&self) -> anyhow::Result<Directories> {
        let graph = match &self.graph {
            Some(s) => Some(Arc::new(
                GraphDirectory::new(s.clone()).map_err(anyhow::Error::msg)?,
            )),
            None => None,
        };
        let groups = match &self.kind {
            None => None,
            Some(DirectoryKind::File(path)) => {
                Some(Directory::File(FileDirectory { path: path.clone() }))
            }
            Some(DirectoryKind::Ldap(s)) => Some(Directory::Ldap(LdapDirectory {
                settings: s.clone(),
            })),
            Some(DirectoryKind::Graph) => graph.clone().map(Directory::Graph),
        };
        Ok(Directories {
            groups: groups.map(Arc::new),
            graph,
            max_removal_percent: self.max_removal_percent,
        })
    }
}

fn text(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

impl DirectoryArgs {
    fn graph(&self) -> Result<Option<GraphSettings>, ConfigError> {
        let tenant_name = ("GATEHOUSE_GRAPH_TENANT_ID", "graph-tenant-id");
        let Some(tenant) = text(&self.graph_tenant_id) else {
            return Ok(None);
        };
        let tenant = uuid::Uuid::parse_str(&tenant)
            .map_err(|_| invalid(tenant_name, format!("`{tenant}` is not a GUID")))?;
        let client_id = required(
            &self.graph_client_id,
            ("GATEHOUSE_GRAPH_CLIENT_ID", "graph-client-id"),
        )?;
        let client_secret = Secret::new(required(
            &self.graph_client_secret,
            ("GATEHOUSE_GRAPH_CLIENT_SECRET", "graph-client-secret"),
        )?);
        let api_name = ("GATEHOUSE_GRAPH_URL", "graph-url");
        let api_url = http_url(
            &text(&self.graph_url).unwrap_or_else(|| "https://graph.microsoft.com/v1.0".into()),
            api_name,
        )?;
        let login_name = ("GATEHOUSE_GRAPH_LOGIN_URL", "graph-login-url");
        let login = http_url(
            &text(&self.graph_login_url)
                .unwrap_or_else(|| "https://login.microsoftonline.com".into()),
            login_name,
        )?;
        let token_url = Url::parse(&format!(
            "{}/{tenant}/oauth2/v2.0/token",
            login.as_str().trim_end_matches('/')
        ))
        .map_err(|e| invalid(login_name, e.to_string()))?;
        Ok(Some(GraphSettings {
            api_url,
            token_url,
            client_id,
            client_secret,
            max_attempts: 6,
            max_wait: Duration::from_secs(120),
        }))
    }

    fn ldap(&self) -> Result<LdapSettings, ConfigError> {
        let url_name = ("GATEHOUSE_LDAP_URL", "ldap-url");
        let url = required(&self.ldap_url, url_name)?;
        if !(url.starts_with("ldap://") || url.starts_with("ldaps://")) {
            return Err(invalid(url_name, "must start with ldap:// or ldaps://"));
        }
        let starttls = match text(&self.ldap_starttls).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(invalid(
                    ("GATEHOUSE_LDAP_STARTTLS", "ldap-starttls"),
                    format!("`{other}` is neither true nor false"),
                ))
            }
        };
        if url.starts_with("ldap://")
            && !starttls
            && text(&self.ldap_allow_plaintext).as_deref() != Some("true")
        {
            return Err(invalid(
                url_name,
                "ldap:// without StartTLS would send the bind password in clear: use ldaps://, \
                 set GATEHOUSE_LDAP_STARTTLS=true, or (a test directory only) \
                 GATEHOUSE_LDAP_ALLOW_PLAINTEXT=true",
            ));
        }
        Ok(LdapSettings {
            url,
            starttls,
            bind_dn: required(
                &self.ldap_bind_dn,
                ("GATEHOUSE_LDAP_BIND_DN", "ldap-bind-dn"),
            )?,
            bind_password: Secret::new(required(
                &self.ldap_bind_password,
                ("GATEHOUSE_LDAP_BIND_PASSWORD", "ldap-bind-password"),
            )?),
            base_dn: required(
                &self.ldap_base_dn,
                ("GATEHOUSE_LDAP_BASE_DN", "ldap-base-dn"),
            )?,
            group_filter: text(&self.ldap_group_filter)
                .unwrap_or_else(|| "(objectClass=group)".into()),
            user_filter: text(&self.ldap_user_filter)
                .unwrap_or_else(|| "(&(objectClass=user)(!(objectClass=computer)))".into()),
        })
    }

    pub fn settings(&self) -> Result<DirectorySettings, ConfigError> {
        let graph = self.graph()?;
        let name = ("GATEHOUSE_DIRECTORY", "directory");
        let kind = match text(&self.directory).as_deref() {
            None => None,
            Some("file") => {
                let file = required(
                    &self.directory_file,
                    ("GATEHOUSE_DIRECTORY_FILE", "directory-file"),
                )?;
                Some(DirectoryKind::File(PathBuf::from(file)))
            }
            Some("graph") if graph.is_none() => {
                return Err(missing(("GATEHOUSE_GRAPH_TENANT_ID", "graph-tenant-id")))
            }
            Some("graph") => Some(DirectoryKind::Graph),
            Some("ldap") => Some(DirectoryKind::Ldap(self.ldap()?)),
            Some(other) => {
                return Err(invalid(
                    name,
                    format!("`{other}` is not one of file, graph, ldap"),
                ))
            }
        };
        let percent_name = (
            "GATEHOUSE_DIRECTORY_MAX_REMOVAL_PERCENT",
            "directory-max-removal-percent",
        );
        let max_removal_percent = match text(&self.directory_max_removal_percent) {
            None => super::guard::DEFAULT_MAX_REMOVAL_PERCENT,
            Some(p) => p.parse::<u32>().ok().filter(|p| *p <= 100).ok_or_else(|| {
                invalid(
                    percent_name,
                    format!("`{p}` is not a whole number from 0 to 100"),
                )
            })?,
        };
        Ok(DirectorySettings {
            kind,
            graph,
            max_removal_percent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_provider_names_what_it_lacks() {
        let mut args = DirectoryArgs {
            directory: Some("graph".into()),
            ..Default::default()
        };
        assert!(args
            .settings()
            .unwrap_err()
            .to_string()
            .contains("GATEHOUSE_GRAPH_TENANT_ID"));
        args.graph_tenant_id = Some("3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f".into());
        assert!(args
            .settings()
            .unwrap_err()
            .to_string()
            .contains("GATEHOUSE_GRAPH_CLIENT_ID"));
        args.graph_client_id = Some("app".into());
        args.graph_client_secret = Some("s3cret".into());
        let s = args.settings().unwrap();
        assert_eq!(
            s.graph.unwrap().token_url.as_str(),
            "https://login.microsoftonline.com/3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f/oauth2/v2.0/token"
        );

        let args = DirectoryArgs {
            directory: Some("ldap".into()),
            ldap_url: Some("http://dc1".into()),
            ..Default::default()
        };
        assert!(args
            .settings()
            .unwrap_err()
            .to_string()
            .contains("GATEHOUSE_LDAP_URL"));
        let args = DirectoryArgs {
            directory_max_removal_percent: Some("150".into()),
            ..Default::default()
        };
        assert!(args
            .settings()
            .unwrap_err()
            .to_string()
            .contains("GATEHOUSE_DIRECTORY_MAX_REMOVAL_PERCENT"));
        assert_eq!(
            DirectoryArgs::default()
                .settings()
                .unwrap()
                .max_removal_percent,
            10
        );
        let args = DirectoryArgs {
            directory: Some("carrier-pigeon".into()),
            ..Default::default()
        };
        assert!(args
            .settings()
            .unwrap_err()
            .to_string()
            .contains("file, graph, ldap"));
    }
}
