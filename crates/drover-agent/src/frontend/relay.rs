//! The frontend side of the relay: a request the server hands over with the command long-poll
//! (an app agent drains, readies or reads one of its clients) becomes fixed HAProxy runtime
//! commands on this instance's 0600 Unix socket, and the backend's state goes back as the answer.

use std::path::Path;

use drover_client::AgentClient;
use drover_core::frontend::parse_server_name;
use drover_proto::relay::{BackendState, FrontendAction, FrontendRequest};

use super::runtime;

/// HAProxy's backend of ZEO clients.
pub const BACKEND: &str = "plone";

/// The runtime commands an action runs on `server`.
fn commands(action: FrontendAction, server: &str) -> Vec<String> {
    match action {
        FrontendAction::Drain => vec![format!("set server {BACKEND}/{server} state drain")],
        FrontendAction::Ready => vec![
            format!("set server {BACKEND}/{server} health up"),
            format!("set server {BACKEND}/{server} state ready"),
        ],
        FrontendAction::State => Vec::new(),
    }
}

/// Acts on the HAProxy of the frontend at `root` and reads the backend's state.
pub async fn act(root: &Path, request: &FrontendRequest) -> BackendState {
    let failed = |error: String| BackendState { error: Some(error), ..Default::default() };
    // Checked here too: whatever reaches the runtime API is one server name, no more commands.
    if parse_server_name(&request.server).is_none() {
        return failed(format!("{:?} is not a backend server name", request.server));
    }
    let socket = match runtime::sockets(root) {
        Ok(sockets) => sockets.stats,
        Err(e) => return failed(e),
    };
    let mut problems = Vec::new();
    for command in commands(request.action, &request.server) {
        match runtime::unix(&socket, &command).await {
            Ok(answer) if answer.trim().is_empty() => {}
            Ok(answer) => problems.push(format!("`{command}`: {}", answer.trim())),
            Err(e) => problems.push(e),
        }
    }
    let mut state = BackendState::default();
    match runtime::unix(&socket, "show stat").await {
        Ok(csv) => {
            if let Some((sessions, status)) = runtime::server_stat(&csv, BACKEND, &request.server) {
                state.sessions = Some(sessions);
                state.status = Some(status);
            }
            if let Some(others) = runtime::others(&csv, BACKEND, &request.server) {
                state.others = others.total;
                state.others_serving = others.serving;
            }
        }
        Err(e) => problems.push(e),
    }
    if !problems.is_empty() {
        state.error = Some(problems.join("; "));
    }
    state
}

/// Acts on a relayed request and answers it.
pub async fn serve(client: AgentClient, root: std::path::PathBuf, request: FrontendRequest) {
    let state = act(&root, &request).await;
    if let Err(e) = client.answer_frontend_request(request.id, &state).await {
        tracing::debug!(server = %request.server, "failed to answer a frontend request: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_action_runs_fixed_commands_on_one_server() {
        let server = "clients1-client2";
        assert_eq!(commands(FrontendAction::Drain, server), ["set server plone/clients1-client2 state drain"]);
        assert_eq!(
            commands(FrontendAction::Ready, server),
            ["set server plone/clients1-client2 health up", "set server plone/clients1-client2 state ready"]
        );
        assert!(commands(FrontendAction::State, server).is_empty());
    }

    #[tokio::test]
    async fn a_name_that_would_add_a_command_is_refused_before_haproxy() {
        let root = tempfile::tempdir().unwrap();
        let request = FrontendRequest {
            id: 1,
            server: "clients1-client1;shutdown frontend http".into(),
            action: FrontendAction::Drain,
        };
        let state = act(root.path(), &request).await;
        assert!(state.error.unwrap().contains("is not a backend server name"));
    }
}
