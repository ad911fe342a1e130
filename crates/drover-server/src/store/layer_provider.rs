//! Layers' host providers and their settings, and instances' machine ids.

use sqlx::FromRow;

use super::Store;

/// A layer's provider columns.
#[derive(Debug, Clone, FromRow)]
pub struct LayerProviderRow {
    pub layer_id: i64,
    pub shortname: String,
    /// The provider new instances of the layer get; none: local.
    pub provider: Option<String>,
    /// The provider's settings as JSON (for `ec2`, core's `Ec2Settings`).
    pub provider_settings: Option<String>,
}

impl Store {
    /// A layer's provider and settings.
    pub async fn layer_provider(&self, layer_id: i64) -> Result<Option<LayerProviderRow>, sqlx::Error> {
        sqlx::query_as("SELECT id AS layer_id, shortname, provider, provider_settings FROM layers WHERE id = $1")
            .bind(layer_id)
            .fetch_optional(&self.pool)
            .await
    }

    /// The provider and settings of a stack's layer, by shortname.
    pub async fn layer_provider_by_name(
        &self,
        stack_id: i64,
        shortname: &str,
    ) -> Result<Option<LayerProviderRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id AS layer_id, shortname, provider, provider_settings FROM layers \
             WHERE stack_id = $1 AND shortname = $2",
        )
        .bind(stack_id)
        .bind(shortname)
        .fetch_optional(&self.pool)
        .await
    }

    /// Sets a layer's provider and its settings.
    pub async fn set_layer_provider(
        &self,
        layer_id: i64,
        provider: &str,
        settings: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE layers SET provider = $1, provider_settings = $2 WHERE id = $3")
            .bind(provider)
            .bind(settings)
            .bind(layer_id)
            .execute(self.writer())
            .await
            .map(|_| ())
    }

    /// Forgets an instance's agent credential (its machine is gone; the next one enrolls anew).
    pub async fn forget_credential(&self, instance_id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE instances SET credential_hash = NULL WHERE id = $1")
            .bind(instance_id)
            .execute(self.writer())
            .await
            .map(|_| ())
    }

    /// Records (or clears) an instance's machine id at its provider.
    pub async fn set_machine_id(&self, instance_id: i64, machine_id: Option<&str>) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE instances SET machine_id = $1 WHERE id = $2")
            .bind(machine_id)
            .bind(instance_id)
            .execute(self.writer())
            .await
            .map(|_| ())
    }
}
