//! Values the domain's unit tests share: a file-directory group, a role of the test account and
//! a grant on the test API.

use super::{
    grant::{Grant, GrantInput, GroupRef},
    names::RoleArn,
};

pub fn group(id: &str) -> GroupRef {
    GroupRef::group("file", id)
}

pub fn role(name: &str) -> RoleArn {
    RoleArn::parse(&format!("arn:aws:iam::123456789012:role/{name}")).unwrap()
}

/// `role_name` may call `method` on `path` in `stage` of API a1b2c3d4e5 (eu-west-1).
pub fn grant(role_name: &str, method: &str, path: &str, stage: &str) -> Grant {
    Grant::parse(&GrantInput {
        role_arn: role(role_name).to_string(),
        account: "123456789012".into(),
        region: "eu-west-1".into(),
        api_id: "a1b2c3d4e5".into(),
        stage: stage.into(),
        method: method.into(),
        path: path.into(),
    })
    .unwrap()
}
