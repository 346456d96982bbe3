//! Bindings (group → role) and grants (role → API route), and the `execute-api:Invoke` ARN a
//! grant yields: `arn:{partition}:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}`.

use serde::{Deserialize, Serialize};

use super::names::{
    AccountId, ApiId, HttpMethod, Invalid, Partition, Region, ResourcePath, RoleArn, StageName,
};

/// Who a binding gives a role to: a directory group, as the catalog names it, or — for an
/// access request — one person (`kind: Person`, `object_id` the person's object id).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GroupRef {
    pub source: String,
    pub object_id: String,
    /// Left out of the JSON for a group, so bindings stored before people could be bound (and
    /// the content hashes reviewers approved) read and hash as before.
    #[serde(default, skip_serializing_if = "PrincipalKind::is_group")]
    pub kind: PrincipalKind,
}

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum PrincipalKind {
    #[default]
    Group,
    Person,
}

impl PrincipalKind {
    pub fn is_group(&self) -> bool {
        *self == PrincipalKind::Group
    }

    /// As stored in `bindings.principal_kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Group => "group",
            PrincipalKind::Person => "person",
        }
    }
}

impl GroupRef {
    pub fn group(source: &str, object_id: &str) -> GroupRef {
        GroupRef {
            source: source.into(),
            object_id: object_id.into(),
            kind: PrincipalKind::Group,
        }
    }

    pub fn person(source: &str, object_id: &str) -> GroupRef {
        GroupRef {
            source: source.into(),
            object_id: object_id.into(),
            kind: PrincipalKind::Person,
        }
    }

    pub fn is_person(&self) -> bool {
        self.kind == PrincipalKind::Person
    }

    /// Its page: a group's, or the person's.
    pub fn href(&self) -> String {
        match self.kind {
            PrincipalKind::Group => format!("/groups/{}/{}", self.source, self.object_id),
            PrincipalKind::Person => format!("/people/{}/{}", self.source, self.object_id),
        }
    }
}

/// "Members of this group use this role."
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Binding {
    pub group: GroupRef,
    pub role: RoleArn,
}

/// Where an API lives.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ApiRef {
    pub account: AccountId,
    pub region: Region,
    pub api_id: ApiId,
}

/// The role may call `method` on `path` in `stage` of `api`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub role: RoleArn,
    pub api: ApiRef,
    pub stage: StageName,
    pub method: HttpMethod,
    pub path: ResourcePath,
}

/// What a grant form sends, field by field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantInput {
    pub role_arn: String,
    pub account: String,
    pub region: String,
    pub api_id: String,
    pub stage: String,
    pub method: String,
    pub path: String,
}

/// The errors of a grant form, by field name, so each shows next to its field.
pub type FieldErrors = Vec<(&'static str, String)>;

impl Grant {
    pub fn parse(input: &GrantInput) -> Result<Grant, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut field = |name: &'static str, r: Result<(), Invalid>| {
            if let Err(e) = r {
                errors.push((name, e.0));
            }
        };
        let role = RoleArn::parse(&input.role_arn);
        let account = AccountId::parse(&input.account);
        let region = Region::parse(&input.region);
        let api_id = ApiId::parse(&input.api_id);
        let stage = StageName::parse(&input.stage);
        let method = HttpMethod::parse(&input.method);
        let path = ResourcePath::parse(&input.path);
        field("role_arn", role.as_ref().map(|_| ()).map_err(Clone::clone));
        field(
            "account",
            account.as_ref().map(|_| ()).map_err(Clone::clone),
        );
        field("region", region.as_ref().map(|_| ()).map_err(Clone::clone));
        field("api_id", api_id.as_ref().map(|_| ()).map_err(Clone::clone));
        field("stage", stage.as_ref().map(|_| ()).map_err(Clone::clone));
        field("method", method.as_ref().map(|_| ()).map_err(Clone::clone));
        field("path", path.as_ref().map(|_| ()).map_err(Clone::clone));
        if !errors.is_empty() {
            return Err(errors);
        }
        let grant = Grant {
            role: role.unwrap(),
            api: ApiRef {
                account: account.unwrap(),
                region: region.unwrap(),
                api_id: api_id.unwrap(),
            },
            stage: stage.unwrap(),
            method: method.unwrap(),
            path: path.unwrap(),
        };
        if grant.path.is_default_route() && grant.method != HttpMethod::Any {
            return Err(vec![(
                "method",
                "the $default route takes every method: use * (any)".to_string(),
            )]);
        }
        if grant.role.partition != grant.api.region.partition() {
            return Err(vec![(
                "region",
                format!(
                    "the role is in partition {} but region {} is in {}",
                    grant.role.partition.as_str(),
                    grant.api.region.as_str(),
                    grant.api.region.partition().as_str()
                ),
            )]);
        }
        Ok(grant)
    }

    pub fn invoke_arn(&self) -> String {
        if self.path.is_default_route() {
            // An HTTP API's `$default` route is invoked as `api/stage/$default`.
            return format!(
                "arn:{}:execute-api:{}:{}:{}/{}/{}",
                self.api.region.partition().as_str(),
                self.api.region.as_str(),
                self.api.account.as_str(),
                self.api.api_id.as_str(),
                self.stage.as_str(),
                self.path.as_str()
            );
        }
        let path = self.path.arn_part();
        format!(
            "arn:{}:execute-api:{}:{}:{}/{}/{}/{}",
            self.api.region.partition().as_str(),
            self.api.region.as_str(),
            self.api.account.as_str(),
            self.api.api_id.as_str(),
            self.stage.as_str(),
            self.method.as_str(),
            path
        )
    }
}

/// What a push does to the authorization of the methods a grant covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MethodsOnPush {
    /// Left as they are.
    Left,
    /// Set to `AWS_IAM` (GATEHOUSE_ENFORCE_IAM_AUTH).
    Iam,
    /// Set to `CUSTOM` with Gatehouse's authorizer (the API is in GATEHOUSE_ATTACH_AUTHORIZER).
    Gatehouse,
}

/// A grant's warning about the methods it covers that IAM does not decide (`NONE`: anyone may
/// call; `CUSTOM`, `COGNITO_USER_POOLS`: an authorizer decides), from the catalog's
/// (path, method, authorization type), given what the push does to them.
pub fn authorization_warning(
    g: &Grant,
    methods: &[(String, String, String)],
    on_push: MethodsOnPush,
) -> Option<String> {
    let covered = |path: &String, method: &String| g.path.covers(path) && g.method.covers(method);
    if on_push == MethodsOnPush::Gatehouse {
        let changing: Vec<String> = methods
            .iter()
            .filter(|(path, method, auth)| auth != "CUSTOM" && covered(path, method))
            .map(|(path, method, auth)| format!("{method} {path} ({auth})"))
            .collect();
        return (!changing.is_empty()).then(|| {
            format!(
                "Token mode: pushing this puts Gatehouse's authorizer on {}, so only callers with an access token of a group granted the route get through.",
                changing.join(", ")
            )
        });
    }
    let open: Vec<String> = methods
        .iter()
        .filter(|(path, method, auth)| auth != "AWS_IAM" && covered(path, method))
        .map(|(path, method, auth)| format!("{method} {path} ({auth})"))
        .collect();
    if open.is_empty() {
        return None;
    }
    Some(if on_push == MethodsOnPush::Iam {
        format!(
            "Not decided by IAM today: {}. Pushing this sets their authorization to AWS_IAM, so callers without a granted role lose access.",
            open.join(", ")
        )
    } else {
        format!(
            "This grant controls nothing yet: {} — API Gateway does not ask IAM for these methods (NONE lets anyone call; CUSTOM and COGNITO_USER_POOLS leave it to their authorizer).",
            open.join(", ")
        )
    })
}

#[cfg(test)]
mod authorization_tests {
    use super::*;

    #[test]
    fn grants_on_methods_iam_does_not_decide_are_flagged() {
        let g = Grant::parse(&GrantInput {
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            api_id: "a1b2c3d4e5".into(),
            stage: "prod".into(),
            method: "*".into(),
            path: "/orders".into(),
        })
        .unwrap();
        let m = |p: &str, v: &str, a: &str| (p.to_string(), v.to_string(), a.to_string());
        let methods = [
            m("/orders", "GET", "NONE"),
            m("/orders", "POST", "AWS_IAM"),
            m("/orders", "PUT", "CUSTOM"),
            m("/health", "GET", "NONE"),
        ];
        let w = authorization_warning(&g, &methods, MethodsOnPush::Left).unwrap();
        assert!(
            w.contains("GET /orders (NONE), PUT /orders (CUSTOM)")
                && w.contains("controls nothing"),
            "{w}"
        );
        assert!(!w.contains("/health") && !w.contains("POST"));
        assert!(authorization_warning(&g, &methods, MethodsOnPush::Iam)
            .unwrap()
            .contains("sets their authorization to AWS_IAM"));
        assert_eq!(
            authorization_warning(&g, &methods[1..2], MethodsOnPush::Left),
            None
        );
        let token = authorization_warning(&g, &methods, MethodsOnPush::Gatehouse).unwrap();
        assert!(
            token.contains("Gatehouse's authorizer on GET /orders (NONE), POST /orders (AWS_IAM),")
                && !token.contains("PUT"),
            "{token}"
        );
        assert_eq!(
            authorization_warning(&g, &methods[2..3], MethodsOnPush::Gatehouse),
            None
        );
    }
}

/// An invoke ARN read back: the route it names (path parameters come back as `*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvokeArn {
    pub partition: Partition,
    pub region: Region,
    pub account: AccountId,
    pub api_id: ApiId,
    pub stage: StageName,
    pub method: HttpMethod,
    /// With its leading `/`.
    pub path: String,
}

impl InvokeArn {
    pub fn parse(text: &str) -> Result<InvokeArn, Invalid> {
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" || parts[2] != "execute-api" {
            return Err(Invalid(format!("`{text}` is not an execute-api ARN")));
        }
        let partition = Partition::parse(parts[1])?;
        let region = Region::parse(parts[3])?;
        let account = AccountId::parse(parts[4])?;
        let mut rest = parts[5].splitn(4, '/');
        let api_id = ApiId::parse(rest.next().unwrap_or(""))?;
        let stage = StageName::parse(rest.next().unwrap_or(""))?;
        let method = HttpMethod::parse(rest.next().unwrap_or(""))?;
        let path = format!("/{}", rest.next().unwrap_or(""));
        Ok(InvokeArn {
            partition,
            region,
            account,
            api_id,
            stage,
            method,
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn input() -> GrantInput {
        GrantInput {
            role_arn: "arn:aws:iam::123456789012:role/gatehouse-orders-readers".into(),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            api_id: "a1b2c3d4e5".into(),
            stage: "prod".into(),
            method: "GET".into(),
            path: "/orders/{orderId}".into(),
        }
    }

    #[test]
    fn a_grant_yields_its_invoke_arn() {
        let grant = Grant::parse(&input()).unwrap();
        assert_eq!(
            grant.invoke_arn(),
            "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/orders/*"
        );
        let mut any = input();
        any.method = "*".into();
        any.path = "/*".into();
        any.stage = "*".into();
        assert_eq!(
            Grant::parse(&any).unwrap().invoke_arn(),
            "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/*/*/*"
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = GrantInput {
            method: "FETCH".into(),
            path: "orders".into(),
            ..input()
        };
        let errors = Grant::parse(&bad).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["method", "path"]);
        let china = GrantInput {
            region: "cn-north-1".into(),
            ..input()
        };
        assert!(Grant::parse(&china).unwrap_err()[0].1.contains("partition"));
    }

    #[test]
    fn the_default_route_is_granted_for_every_method_and_invoked_without_one() {
        let default = |method: &str| GrantInput {
            method: method.into(),
            path: "$default".into(),
            ..input()
        };
        let errors = Grant::parse(&default("GET")).unwrap_err();
        assert_eq!(errors[0].0, "method");
        assert!(errors[0].1.contains("every method"), "{errors:?}");
        let grant = Grant::parse(&default("*")).unwrap();
        assert!(
            grant.invoke_arn().ends_with(":a1b2c3d4e5/prod/$default"),
            "{}",
            grant.invoke_arn()
        );
    }

    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z][a-z0-9_-]{0,8}",
            "[a-z][a-zA-Z0-9]{0,6}".prop_map(|p| format!("{{{p}}}")),
        ]
    }

    proptest! {
        /// A grant's ARN reads back to the same route (parameters as `*`), in every partition.
        #[test]
        fn invoke_arns_round_trip(
            segments in prop::collection::vec(segment(), 0..5),
            subtree in any::<bool>(),
            method in prop::sample::select(HttpMethod::ALL.to_vec()),
            stage in "[A-Za-z0-9_-]{1,20}",
            region in prop::sample::select(vec!["eu-west-1", "us-east-1", "cn-north-1", "us-gov-west-1"]),
            api in "[a-z0-9]{10}",
        ) {
            let mut path = format!("/{}", segments.join("/"));
            if subtree { path = if path == "/" { "/*".into() } else { format!("{path}/*") }; }
            let partition = Region::parse(region).unwrap().partition();
            let grant = Grant::parse(&GrantInput {
                role_arn: format!("arn:{}:iam::123456789012:role/r", partition.as_str()),
                account: "123456789012".into(),
                region: region.into(),
                api_id: api.clone(),
                stage: stage.clone(),
                method: method.as_str().into(),
                path: path.clone(),
            }).unwrap();
            let back = InvokeArn::parse(&grant.invoke_arn()).unwrap();
            prop_assert_eq!(back.partition, partition);
            prop_assert_eq!(back.api_id.as_str(), api.as_str());
            prop_assert_eq!(back.stage.as_str(), stage.as_str());
            prop_assert_eq!(back.method, method);
            let expected = format!("/{}", grant.path.arn_part());
            prop_assert_eq!(back.path, expected);
        }
    }
}
