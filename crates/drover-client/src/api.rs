//! Typed calls. [`Client`] is the user-facing API (admin token); [`AgentClient`] is the agent
//! protocol (a join token for enrollment, then the agent's own credential).

use std::time::Duration;

use drover_proto::agent::{
    AgentCommand, AppSecrets, EnrollRequest, EnrollResponse, Heartbeat, Hello, NextCommand, OutputAck, OutputAppend,
    RestartSlot, RestartSlotRequest, ResultReport, StartReport, Unfinished,
};
use drover_proto::api::{
    App, Command, ConfigChange, ConfigVersion, CreateApp, CreateDeployment, CreateInstance, CreateJoinToken,
    CreateLayer, CreateStack, CreatedJoinToken, Deployment, EffectiveConfig, FrontendBackend, FrontendView, Instance,
    JoinToken, Layer, LogChunk, ReleaseView, RevertConfig, SetCustomJson, Stack, StackStatus, UpdateApp, UpdateLayer,
};
use drover_proto::layer_provider::{LayerProvider, LayerProviderView};
use drover_proto::layer_scaling::{LayerScaling, SetLayerScaling};
use drover_proto::people::{
    AuditEntry, CreateToken, CreateUser, CreatedToken, SetGrant, SetPassword, TokenInfo, User, WhoAmI,
};
use drover_proto::relay::{BackendState, FrontendAnswers, FrontendCall};
use drover_proto::scaling::{InstanceScaling, SetScaling};
use drover_proto::{API_PREFIX, ErrorBody};
use reqwest::Method;

use crate::error::{ClientError, chain};
use crate::http::{CALL_TIMEOUT, Http};

/// Percent-encodes a path segment (names are validated server-side; this keeps odd input intact).
fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The user-facing API.
#[derive(Clone)]
pub struct Client {
    http: Http,
}

impl Client {
    /// A client for `server_url` that pins the CA fingerprint and sends `token`.
    pub fn new(server_url: &str, ca_fingerprint: &str, token: &str) -> Result<Self, ClientError> {
        Ok(Self { http: Http::new(server_url, ca_fingerprint, token)? })
    }

    /// Who the token in use belongs to.
    pub async fn whoami(&self) -> Result<WhoAmI, ClientError> {
        self.http.get("/whoami").await
    }

    /// The servers of the control plane.
    pub async fn servers(&self) -> Result<Vec<drover_proto::servers::ServerMember>, ClientError> {
        self.http.get("/servers").await
    }

    /// Lists users.
    pub async fn users(&self) -> Result<Vec<User>, ClientError> {
        self.http.get("/users").await
    }

    /// Creates a user.
    pub async fn create_user(&self, req: &CreateUser) -> Result<User, ClientError> {
        self.http.post("/users", req).await
    }

    /// Deletes a user.
    pub async fn delete_user(&self, name: &str) -> Result<(), ClientError> {
        self.http.delete(&format!("/users/{}", seg(name))).await
    }

    /// Sets a user's level on a stack.
    pub async fn grant(&self, name: &str, stack: &str, req: &SetGrant) -> Result<User, ClientError> {
        let path = format!("/users/{}/grants/{}", seg(name), seg(stack));
        self.http.required(self.http.call(Method::PUT, &path, Some(req), CALL_TIMEOUT).await)
    }

    /// Makes a personal token.
    pub async fn create_token(&self, req: &CreateToken) -> Result<CreatedToken, ClientError> {
        self.http.post("/tokens", req).await
    }

    /// Lists personal tokens.
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>, ClientError> {
        self.http.get("/tokens").await
    }

    /// Revokes a personal token.
    pub async fn revoke_token(&self, id: i64) -> Result<(), ClientError> {
        self.http.delete(&format!("/tokens/{id}")).await
    }

    /// Reads the audit trail.
    pub async fn audit(
        &self,
        stack: Option<&str>,
        user: Option<&str>,
        since_ms: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, ClientError> {
        let mut query = format!("limit={limit}");
        if let Some(stack) = stack {
            query.push_str(&format!("&stack={}", seg(stack)));
        }
        if let Some(user) = user {
            query.push_str(&format!("&user={}", seg(user)));
        }
        if let Some(since) = since_ms {
            query.push_str(&format!("&since={since}"));
        }
        self.http.get(&format!("/audit?{query}")).await
    }

    /// A stack's events, oldest first: the newest `limit`, or those after `after`, waiting up to
    /// `wait` for one.
    pub async fn events(
        &self,
        stack: &str,
        after: Option<i64>,
        wait: Duration,
        limit: u32,
    ) -> Result<Vec<drover_proto::events::Event>, ClientError> {
        let mut path = format!("/stacks/{}/events?limit={limit}", seg(stack));
        if let Some(after) = after {
            path.push_str(&format!("&after={after}&wait={}", wait.as_secs()));
        }
        self.http.required(self.http.call::<(), _>(Method::GET, &path, None, wait + CALL_TIMEOUT).await)
    }

    /// Makes (or replaces) an app's deploy webhook.
    pub async fn enable_webhook(&self, stack: &str, app: &str) -> Result<drover_proto::hooks::Webhook, ClientError> {
        self.http.post(&format!("/stacks/{}/apps/{}/webhook", seg(stack), seg(app)), &serde_json::json!({})).await
    }

    /// Removes an app's deploy webhook.
    pub async fn disable_webhook(&self, stack: &str, app: &str) -> Result<(), ClientError> {
        self.http.delete(&format!("/stacks/{}/apps/{}/webhook", seg(stack), seg(app))).await
    }

    /// Lists stacks.
    pub async fn stacks(&self) -> Result<Vec<Stack>, ClientError> {
        self.http.get("/stacks").await
    }

    /// Creates a stack.
    pub async fn create_stack(&self, req: &CreateStack) -> Result<Stack, ClientError> {
        self.http.post("/stacks", req).await
    }

    /// Shows a stack.
    pub async fn stack(&self, name: &str) -> Result<Stack, ClientError> {
        self.http.get(&format!("/stacks/{}", seg(name))).await
    }

    /// Makes a join token for a stack (the answer holds the token, shown this once).
    pub async fn create_join_token(&self, stack: &str, req: &CreateJoinToken) -> Result<CreatedJoinToken, ClientError> {
        self.http.post(&format!("/stacks/{}/join-tokens", seg(stack)), req).await
    }

    /// A stack's join tokens.
    pub async fn join_tokens(&self, stack: &str) -> Result<Vec<JoinToken>, ClientError> {
        self.http.get(&format!("/stacks/{}/join-tokens", seg(stack))).await
    }

    /// Every join token.
    pub async fn all_join_tokens(&self) -> Result<Vec<JoinToken>, ClientError> {
        self.http.get("/join-tokens").await
    }

    /// Revokes a join token.
    pub async fn revoke_join_token(&self, id: i64) -> Result<JoinToken, ClientError> {
        let got =
            self.http.call::<(), JoinToken>(Method::DELETE, &format!("/join-tokens/{id}"), None, CALL_TIMEOUT).await;
        self.http.required(got)
    }

    /// Deletes an empty stack.
    pub async fn delete_stack(&self, name: &str) -> Result<(), ClientError> {
        self.http.delete(&format!("/stacks/{}", seg(name))).await
    }

    /// A stack with its layers, instances and latest deployments.
    pub async fn stack_status(&self, name: &str) -> Result<StackStatus, ClientError> {
        self.http.get(&format!("/stacks/{}/status", seg(name))).await
    }

    /// Lists a stack's layers.
    pub async fn layers(&self, stack: &str) -> Result<Vec<Layer>, ClientError> {
        self.http.get(&format!("/stacks/{}/layers", seg(stack))).await
    }

    /// Creates a layer.
    pub async fn create_layer(&self, stack: &str, req: &CreateLayer) -> Result<Layer, ClientError> {
        self.http.post(&format!("/stacks/{}/layers", seg(stack)), req).await
    }

    /// Shows a layer.
    pub async fn layer(&self, stack: &str, layer: &str) -> Result<Layer, ClientError> {
        self.http.get(&format!("/stacks/{}/layers/{}", seg(stack), seg(layer))).await
    }

    /// Deletes a layer that no instance belongs to.
    pub async fn delete_layer(&self, stack: &str, layer: &str) -> Result<(), ClientError> {
        self.http.delete(&format!("/stacks/{}/layers/{}", seg(stack), seg(layer))).await
    }

    /// Lists a stack's instances.
    pub async fn instances(&self, stack: &str) -> Result<Vec<Instance>, ClientError> {
        self.http.get(&format!("/stacks/{}/instances", seg(stack))).await
    }

    /// Creates an instance (a local one is started at once).
    pub async fn create_instance(&self, stack: &str, req: &CreateInstance) -> Result<Instance, ClientError> {
        self.http.post(&format!("/stacks/{}/instances", seg(stack)), req).await
    }

    /// Shows an instance.
    pub async fn instance(&self, stack: &str, host: &str) -> Result<Instance, ClientError> {
        self.http.get(&format!("/stacks/{}/instances/{}", seg(stack), seg(host))).await
    }

    /// Deletes a stopped instance.
    pub async fn delete_instance(&self, stack: &str, host: &str) -> Result<(), ClientError> {
        self.http.delete(&format!("/stacks/{}/instances/{}", seg(stack), seg(host))).await
    }

    /// An instance's scaling type and schedule.
    pub async fn scaling(&self, stack: &str, host: &str) -> Result<InstanceScaling, ClientError> {
        self.http.get(&format!("/stacks/{}/instances/{}/scaling", seg(stack), seg(host))).await
    }

    /// Sets an instance's scaling type and schedule.
    pub async fn set_scaling(&self, stack: &str, host: &str, req: &SetScaling) -> Result<InstanceScaling, ClientError> {
        let path = format!("/stacks/{}/instances/{}/scaling", seg(stack), seg(host));
        self.http.required(self.http.call(Method::PUT, &path, Some(req), CALL_TIMEOUT).await)
    }

    /// A layer's load-based scaling, its averages and what it would do now.
    pub async fn layer_scaling(&self, stack: &str, layer: &str) -> Result<LayerScaling, ClientError> {
        self.http.get(&format!("/stacks/{}/layers/{}/scaling", seg(stack), seg(layer))).await
    }

    /// Changes a layer's load-based scaling.
    pub async fn set_layer_scaling(
        &self,
        stack: &str,
        layer: &str,
        req: &SetLayerScaling,
    ) -> Result<LayerScaling, ClientError> {
        let path = format!("/stacks/{}/layers/{}/scaling", seg(stack), seg(layer));
        self.http.required(self.http.call(Method::PUT, &path, Some(req), CALL_TIMEOUT).await)
    }

    /// A layer's host provider and its settings.
    pub async fn layer_provider(&self, stack: &str, layer: &str) -> Result<LayerProviderView, ClientError> {
        self.http.get(&format!("/stacks/{}/layers/{}/provider", seg(stack), seg(layer))).await
    }

    /// Sets a layer's host provider and its settings.
    pub async fn set_layer_provider(
        &self,
        stack: &str,
        layer: &str,
        req: &LayerProvider,
    ) -> Result<LayerProviderView, ClientError> {
        let path = format!("/stacks/{}/layers/{}/provider", seg(stack), seg(layer));
        self.http.required(self.http.call(Method::PUT, &path, Some(req), CALL_TIMEOUT).await)
    }

    /// Starts an instance.
    pub async fn start_instance(&self, stack: &str, host: &str) -> Result<Instance, ClientError> {
        self.http.post(&format!("/stacks/{}/instances/{}/start", seg(stack), seg(host)), &()).await
    }

    /// Stops an instance (its Shutdown phase runs first).
    pub async fn stop_instance(&self, stack: &str, host: &str) -> Result<Instance, ClientError> {
        self.http.post(&format!("/stacks/{}/instances/{}/stop", seg(stack), seg(host)), &()).await
    }

    /// Lists a stack's apps.
    pub async fn apps(&self, stack: &str) -> Result<Vec<App>, ClientError> {
        self.http.get(&format!("/stacks/{}/apps", seg(stack))).await
    }

    /// Creates an app.
    pub async fn create_app(&self, stack: &str, req: &CreateApp) -> Result<App, ClientError> {
        self.http.post(&format!("/stacks/{}/apps", seg(stack)), req).await
    }

    /// Shows an app (secret values redacted).
    pub async fn app(&self, stack: &str, app: &str) -> Result<App, ClientError> {
        self.http.get(&format!("/stacks/{}/apps/{}", seg(stack), seg(app))).await
    }

    /// Changes an app.
    pub async fn update_app(&self, stack: &str, app: &str, req: &UpdateApp) -> Result<App, ClientError> {
        let path = format!("/stacks/{}/apps/{}", seg(stack), seg(app));
        self.http.required(self.http.call(Method::PATCH, &path, Some(req), CALL_TIMEOUT).await)
    }

    /// Changes a layer's hooks or auto-healing.
    pub async fn update_layer(&self, stack: &str, layer: &str, req: &UpdateLayer) -> Result<Layer, ClientError> {
        let path = format!("/stacks/{}/layers/{}", seg(stack), seg(layer));
        self.http.required(self.http.call(Method::PATCH, &path, Some(req), CALL_TIMEOUT).await)
    }

    /// Replaces the Custom JSON of the stack, or of one of its layers.
    pub async fn set_custom_json(
        &self,
        stack: &str,
        layer: Option<&str>,
        req: &SetCustomJson,
    ) -> Result<ConfigChange, ClientError> {
        let path = match layer {
            Some(l) => format!("/stacks/{}/layers/{}/custom_json", seg(stack), seg(l)),
            None => format!("/stacks/{}/custom_json", seg(stack)),
        };
        self.http.required(self.http.call(Method::PUT, &path, Some(req), CALL_TIMEOUT).await)
    }

    /// The configuration in force for an instance, or at the stack level.
    pub async fn effective_config(&self, stack: &str, instance: Option<&str>) -> Result<EffectiveConfig, ClientError> {
        let query = instance.map(|h| format!("?instance={}", seg(h))).unwrap_or_default();
        self.http.get(&format!("/stacks/{}/config{query}", seg(stack))).await
    }

    /// The versions of the stack's (or a layer's) Custom JSON, newest first.
    pub async fn config_history(&self, stack: &str, layer: Option<&str>) -> Result<Vec<ConfigVersion>, ClientError> {
        let query = layer.map(|l| format!("?layer={}", seg(l))).unwrap_or_default();
        self.http.get(&format!("/stacks/{}/config/history{query}", seg(stack))).await
    }

    /// Brings back an earlier version of the stack's (or a layer's) Custom JSON.
    pub async fn revert_config(&self, stack: &str, req: &RevertConfig) -> Result<ConfigChange, ClientError> {
        self.http.post(&format!("/stacks/{}/config/revert", seg(stack)), req).await
    }

    /// The stack's frontends: site and stats URLs, stats credentials.
    pub async fn frontends(&self, stack: &str) -> Result<Vec<FrontendView>, ClientError> {
        self.http.get(&format!("/stacks/{}/frontends", seg(stack))).await
    }

    /// Sets a user's console password.
    pub async fn set_password(&self, user: &str, body: &SetPassword) -> Result<(), ClientError> {
        self.http.put_empty(&format!("/users/{}/password", seg(user)), body).await
    }

    /// Removes a user's console password.
    pub async fn remove_password(&self, user: &str) -> Result<(), ClientError> {
        self.http.delete(&format!("/users/{}/password", seg(user))).await
    }

    /// HAProxy's backend as each online frontend of the stack sees it now.
    pub async fn frontend_backends(&self, stack: &str) -> Result<Vec<FrontendBackend>, ClientError> {
        self.http.get(&format!("/stacks/{}/frontends/backend", seg(stack))).await
    }

    /// Runs Configure on every online instance of the stack.
    pub async fn configure(&self, stack: &str) -> Result<Deployment, ClientError> {
        self.http.post(&format!("/stacks/{}/configure", seg(stack)), &()).await
    }

    /// An app's releases on every instance.
    pub async fn releases(&self, stack: &str, app: &str) -> Result<Vec<ReleaseView>, ClientError> {
        self.http.get(&format!("/stacks/{}/apps/{}/releases", seg(stack), seg(app))).await
    }

    /// Deletes an app.
    pub async fn delete_app(&self, stack: &str, app: &str) -> Result<(), ClientError> {
        self.http.delete(&format!("/stacks/{}/apps/{}", seg(stack), seg(app))).await
    }

    /// Creates a deployment.
    pub async fn create_deployment(&self, stack: &str, req: &CreateDeployment) -> Result<Deployment, ClientError> {
        // The server holds the request while it waits for the app's lock (`lock_wait_secs`).
        let timeout = CALL_TIMEOUT + Duration::from_secs(req.lock_wait_secs.unwrap_or(0));
        let path = format!("/stacks/{}/deployments", seg(stack));
        self.http.required(self.http.call(Method::POST, &path, Some(req), timeout).await)
    }

    /// Runs a ZODB job now (`pack`, `backup`, `backups`, `restore`): the deployment that runs it.
    pub async fn run_zodb_job(
        &self,
        stack: &str,
        job: &str,
        req: &drover_proto::zodb::RunZodbJob,
    ) -> Result<Deployment, ClientError> {
        let path = format!("/stacks/{}/zodb/{}", seg(stack), seg(job));
        self.http.required(self.http.call(Method::POST, &path, Some(req), CALL_TIMEOUT).await)
    }

    /// Queues an upgrade of the stack's agents to the server's binary.
    pub async fn upgrade_agents(
        &self,
        stack: &str,
        req: &drover_proto::upgrade::CreateAgentUpgrade,
    ) -> Result<Deployment, ClientError> {
        self.http.post(&format!("/stacks/{}/agent-upgrades", seg(stack)), req).await
    }

    /// Lists a stack's deployments, newest first.
    pub async fn deployments(&self, stack: &str) -> Result<Vec<Deployment>, ClientError> {
        self.http.get(&format!("/stacks/{}/deployments", seg(stack))).await
    }

    /// Shows a deployment with its commands.
    pub async fn deployment(&self, id: i64) -> Result<Deployment, ClientError> {
        self.http.get(&format!("/deployments/{id}")).await
    }

    /// Shows a command.
    pub async fn command(&self, id: i64) -> Result<Command, ClientError> {
        self.http.get(&format!("/commands/{id}")).await
    }

    /// Cancels a logs deployment: its agents stop streaming.
    pub async fn cancel_deployment(&self, id: i64) -> Result<(), ClientError> {
        let path = format!("/deployments/{id}/cancel");
        self.http.call::<(), serde_json::Value>(Method::POST, &path, None, CALL_TIMEOUT).await.map(|_| ())
    }

    /// Log text of a command from `offset`, waiting up to `wait` for more.
    pub async fn command_log(&self, id: i64, offset: u64, wait: Duration) -> Result<LogChunk, ClientError> {
        let path = format!("/commands/{id}/log?offset={offset}&wait={}", wait.as_secs());
        self.http.required(self.http.call::<(), LogChunk>(Method::GET, &path, None, wait + CALL_TIMEOUT).await)
    }
}

/// The agent protocol.
#[derive(Clone)]
pub struct AgentClient {
    http: Http,
}

impl AgentClient {
    /// A client for `server_url` pinning the CA fingerprint, sending `credential` (the join token
    /// for enrollment, the agent's own credential afterwards).
    pub fn new(server_url: &str, ca_fingerprint: &str, credential: &str) -> Result<Self, ClientError> {
        Ok(Self { http: Http::new(server_url, ca_fingerprint, credential)? })
    }

    /// Enrolls with the join token; returns the agent's own credential.
    pub async fn enroll(&self, req: &EnrollRequest) -> Result<EnrollResponse, ClientError> {
        self.http.post("/agent/enroll", req).await
    }

    /// Announces that the agent has started.
    pub async fn hello(&self, req: &Hello) -> Result<(), ClientError> {
        self.http.post_empty("/agent/hello", req).await
    }

    /// Starts downloading the server's agent binary (`GET /agent/binary`); the caller reads it
    /// chunk by chunk and checks its checksum. `timeout` bounds the whole download.
    pub async fn download_binary(&self, timeout: Duration) -> Result<BinaryDownload, ClientError> {
        let http = &self.http;
        let base = http.base();
        let url = format!("{base}{API_PREFIX}/agent/binary");
        let unreachable = |e: reqwest::Error| ClientError::Unreachable { url: base.clone(), detail: chain(&e) };
        let resp = http.inner.get(&url).bearer_auth(&http.token).timeout(timeout).send().await.map_err(unreachable)?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let bytes = resp.bytes().await.map_err(unreachable)?;
            return Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(body) => ClientError::Api { status, error: body.error, retry_after: None },
                Err(_) => ClientError::Protocol { status, detail: String::from_utf8_lossy(&bytes).into_owned() },
            });
        }
        let sha256 =
            resp.headers().get(drover_proto::upgrade::SHA256_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok(BinaryDownload { resp, sha256, base })
    }

    /// Sends a heartbeat.
    pub async fn heartbeat(&self, req: &Heartbeat) -> Result<(), ClientError> {
        self.http.post_empty("/agent/heartbeat", req).await
    }

    /// Waits up to `wait` for the next command, or for requests for this instance's HAProxy.
    pub async fn next_command(&self, wait: Duration) -> Result<NextCommand, ClientError> {
        let path = format!("/agent/commands/next?wait={}", wait.as_secs());
        let got: Option<NextCommand> = self.http.call::<(), _>(Method::GET, &path, None, wait + CALL_TIMEOUT).await?;
        Ok(got.unwrap_or(NextCommand { command: None, frontend_requests: Vec::new() }))
    }

    /// Has every online frontend of the stack act on one of this instance's clients.
    pub async fn frontends(&self, id: i64, call: &FrontendCall) -> Result<FrontendAnswers, ClientError> {
        let path = format!("/agent/commands/{id}/frontends");
        self.http.required(self.http.call(Method::POST, &path, Some(call), CALL_TIMEOUT).await)
    }

    /// Answers a request relayed to this frontend instance.
    pub async fn answer_frontend_request(&self, id: u64, state: &BackendState) -> Result<(), ClientError> {
        self.http.post_empty(&format!("/agent/frontend-requests/{id}"), state).await
    }

    /// Commands this instance took that have no result yet on the server.
    pub async fn unfinished(&self) -> Result<Vec<AgentCommand>, ClientError> {
        Ok(self.http.get::<Unfinished>("/agent/commands/unfinished").await?.commands)
    }

    /// The secrets of an app command's app.
    pub async fn secrets(&self, id: i64) -> Result<AppSecrets, ClientError> {
        self.http.get(&format!("/agent/commands/{id}/secrets")).await
    }

    /// The secrets of one of the instance's apps, for a Configure event.
    pub async fn app_secrets(&self, id: i64, app: &str) -> Result<AppSecrets, ClientError> {
        self.http.get(&format!("/agent/commands/{id}/secrets?app={}", seg(app))).await
    }

    /// Acknowledges a command.
    pub async fn ack(&self, id: i64) -> Result<(), ClientError> {
        self.http.post_empty(&format!("/agent/commands/{id}/ack"), &()).await
    }

    /// Reports that a command started.
    pub async fn started(&self, id: i64, req: &StartReport) -> Result<(), ClientError> {
        self.http.post_empty(&format!("/agent/commands/{id}/start"), req).await
    }

    /// Appends output to a command's log.
    pub async fn output(&self, id: i64, req: &OutputAppend) -> Result<OutputAck, ClientError> {
        self.http.post(&format!("/agent/commands/{id}/output"), req).await
    }

    /// Reports a command's result.
    pub async fn result(&self, id: i64, req: &ResultReport) -> Result<(), ClientError> {
        self.http.post_empty(&format!("/agent/commands/{id}/result"), req).await
    }

    /// Asks for one of the deployment's restart slots, waiting up to `req.wait` seconds.
    pub async fn take_restart_slot(&self, id: i64, req: &RestartSlotRequest) -> Result<RestartSlot, ClientError> {
        let path = format!("/agent/commands/{id}/restart-slot");
        let wait = Duration::from_secs(req.wait);
        self.http.required(self.http.call(Method::POST, &path, Some(req), wait + CALL_TIMEOUT).await)
    }

    /// Gives a restart slot back.
    pub async fn give_back_restart_slot(&self, id: i64, req: &RestartSlotRequest) -> Result<(), ClientError> {
        let path = format!("/agent/commands/{id}/restart-slot");
        self.http.call::<_, serde_json::Value>(Method::DELETE, &path, Some(req), CALL_TIMEOUT).await.map(|_| ())
    }
}

/// A download of the agent binary in progress.
pub struct BinaryDownload {
    resp: reqwest::Response,
    /// The SHA-256 the server announced in its header.
    pub sha256: Option<String>,
    base: String,
}

impl BinaryDownload {
    /// The size the server announced.
    pub fn len(&self) -> Option<u64> {
        self.resp.content_length()
    }

    /// Whether the server announced an empty body.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// The next chunk of bytes; `None` at the end.
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>, ClientError> {
        match self.resp.chunk().await {
            Ok(chunk) => Ok(chunk.map(|c| c.to_vec())),
            Err(e) => Err(ClientError::Unreachable { url: self.base.clone(), detail: chain(&e) }),
        }
    }
}
