//! Schemas, for the API's OpenAPI document, of fields whose wire type is looser than what the
//! server accepts: they stay plain strings on the wire so that the server can name the field it
//! refuses and say what to do.

use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

fn one_of(description: &str, values: &[&str]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values.iter().copied()))
        .build()
}

/// A user's level on a stack.
pub(crate) fn level() -> Object {
    one_of("`deny`, `show`, `deploy` or `manage`.", &["deny", "show", "deploy", "manage"])
}

/// A layer's type.
pub(crate) fn layer_type() -> Object {
    one_of("Its type.", &["custom", "zeoserver", "plone_instances", "frontend"])
}

/// What a deployment does.
pub(crate) fn deployment_kind() -> Object {
    one_of("What to do.", &["execute", "deploy", "rollback", "start", "stop", "restart", "undeploy", "logs"])
}
