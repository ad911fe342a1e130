//! A layer's host provider: `GET|PUT /stacks/{stack}/layers/{layer}/provider`. `GET` (show level)
//! answers it; `PUT` (manage level) checks the whole request (core `Ec2Settings::validate`, every
//! problem by field) and stores it only when it is valid. Instances already created keep theirs.

use axum::Json;
use axum::extract::State;
use drover_core::Provider;
use drover_core::ec2::Ec2Settings;
use drover_proto::FieldError;
use drover_proto::layer_provider::{LayerProvider, LayerProviderView};

use super::auth::{Can, MANAGE, SHOW};
use super::extract::{Body, Path};
use super::failure::{ApiResult, Failure};
use super::resources::{load_layer, load_stack};
use crate::state::AppState;
use crate::store::LayerProviderRow;

/// The request, checked: the provider, and its settings as they are stored.
fn check(req: LayerProvider) -> Result<(Provider, Option<Ec2Settings>), Failure> {
    let provider: Provider = req
        .provider
        .parse()
        .map_err(|e: drover_core::status::UnknownName| Failure::invalid("provider", e.to_string()))?;
    match (provider, req.ec2) {
        (Provider::Ec2, None) => Err(Failure::invalid(
            "ec2",
            "an ec2 layer needs its machines' settings: give at least ami and instance_type (--ami, --instance-type)",
        )),
        (Provider::Ec2, Some(config)) => {
            let settings = Ec2Settings::from(config);
            let Err(problems) = settings.validate() else { return Ok((provider, Some(settings))) };
            let details: Vec<FieldError> = problems
                .into_iter()
                .map(|p| FieldError { field: format!("ec2.{}", p.field), message: p.message })
                .collect();
            let lines: Vec<String> = details.iter().map(|p| format!("  {}: {}", p.field, p.message)).collect();
            let mut failure = Failure::invalid(
                details[0].field.clone(),
                format!("the EC2 settings were refused; nothing was changed:\n{}", lines.join("\n")),
            );
            failure.0.details = details;
            Err(failure)
        }
        (_, Some(_)) => Err(Failure::invalid(
            "ec2",
            format!("EC2 settings are for the ec2 provider, not {provider}; leave them out"),
        )),
        (_, None) => Ok((provider, None)),
    }
}

fn view(row: LayerProviderRow) -> LayerProviderView {
    let ec2 = row.provider_settings.as_deref().and_then(|raw| serde_json::from_str::<Ec2Settings>(raw).ok());
    LayerProviderView {
        layer: row.shortname,
        provider: row.provider.unwrap_or_else(|| Provider::Local.as_str().to_owned()),
        ec2: ec2.map(Into::into),
    }
}

async fn load_row(state: &AppState, stack: &str, layer: &str) -> ApiResult<LayerProviderRow> {
    let stack = load_stack(state, stack).await?;
    let layer = load_layer(state, &stack, layer).await?;
    state.store.layer_provider(layer.id).await?.ok_or_else(|| Failure::internal("the layer vanished"))
}

/// `GET`: the layer's provider and settings.
#[utoipa::path(
    get,
    path = "/stacks/{stack}/layers/{layer}/provider",
    operation_id = "show_layer_provider",
    tag = "layers",
    summary = "The provider new instances of a layer get, with its settings",
    params(("stack" = String, Path, description = "The stack's name"), ("layer" = String, Path, description = "The layer's shortname")),
    responses((status = 200, description = "The layer's provider", body = drover_proto::layer_provider::LayerProviderView))
)]
pub async fn show(
    _: Can<SHOW>,
    State(state): State<AppState>,
    Path((stack, layer)): Path<(String, String)>,
) -> ApiResult<Json<LayerProviderView>> {
    Ok(Json(view(load_row(&state, &stack, &layer).await?)))
}

/// `PUT`: sets the layer's provider and settings; a refused request changes nothing.
#[utoipa::path(
    put,
    path = "/stacks/{stack}/layers/{layer}/provider",
    operation_id = "set_layer_provider",
    tag = "layers",
    summary = "Set the provider new instances of a layer get (local, registered, ec2 with its machine settings)",
    params(("stack" = String, Path, description = "The stack's name"), ("layer" = String, Path, description = "The layer's shortname")),
    request_body = drover_proto::layer_provider::LayerProvider,
    responses(
        (status = 200, description = "The layer's provider", body = drover_proto::layer_provider::LayerProviderView),
        (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody),
    )
)]
pub async fn set(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path((stack, layer)): Path<(String, String)>,
    Body(req): Body<LayerProvider>,
) -> ApiResult<Json<LayerProviderView>> {
    let row = load_row(&state, &stack, &layer).await?;
    let (provider, settings) = check(req)?;
    let json = settings.map(|s| serde_json::to_string(&s)).transpose().map_err(Failure::internal)?;
    state.store.set_layer_provider(row.layer_id, provider.as_str(), json.as_deref()).await?;
    Ok(Json(view(load_row(&state, &stack, &layer).await?)))
}

#[cfg(test)]
mod tests {
    use drover_proto::layer_provider::Ec2Config;

    use super::*;

    fn ec2(ami: &str, region: Option<&str>) -> Option<Ec2Config> {
        Some(Ec2Config {
            ami: ami.into(),
            instance_type: "t3.micro".into(),
            region: region.map(Into::into),
            ..Default::default()
        })
    }

    #[test]
    fn requests_are_checked_whole_and_by_field() {
        let req = |provider: &str, ec2| LayerProvider { provider: provider.into(), ec2 };
        let (p, s) = check(req("ec2", ec2("ami-12345678", Some("us-east-1")))).unwrap();
        assert_eq!((p, s.unwrap().region.as_deref()), (Provider::Ec2, Some("us-east-1")));
        assert_eq!(check(req("local", None)).unwrap(), (Provider::Local, None));
        // (request, the fields refused)
        let cases: Vec<(LayerProvider, Vec<&str>)> = vec![
            (req("cloud", None), vec!["provider"]),
            (req("ec2", None), vec!["ec2"]),
            (req("local", ec2("ami-12345678", None)), vec!["ec2"]),
            (req("ec2", ec2("ubuntu", Some("moon"))), vec!["ec2.ami", "ec2.region"]),
        ];
        for (request, fields) in cases {
            let failure = check(request).unwrap_err();
            let mut got: Vec<String> = failure.0.details.iter().map(|d| d.field.clone()).collect();
            if got.is_empty() {
                got = failure.0.field.clone().into_iter().collect();
            }
            assert_eq!(got, fields);
        }
    }
}
