//! The Celery broker on this instance (`celery_broker` layer): Debian's `redis-server`,
//! supervised like an app's services under `srv/www/.broker`, its data in `shared/data`. Setup
//! and every Configure render `redis.conf` (0600); a changed one restarts Redis (it persists
//! its queues in its append-only file, so queued tasks survive). Shutdown stops it with the rest.

use std::path::Path;

use drover_core::broker::BrokerPlan;
use drover_core::deploy::plan::ServiceSpec;

use crate::app::paths::AppPaths;
use crate::output::OutputStream;
use crate::supervisor::Supervisor;

/// The broker's directory under `srv/www` (not a valid app name, so never an app's).
pub const BROKER: &str = ".broker";

/// The service's name.
const REDIS: &str = "redis";

/// Renders `redis.conf`, starts Redis when it does not run, restarts it when its config changed,
/// and checks that it stays up.
pub async fn configure(
    root: &Path,
    supervisor: &Supervisor,
    plan: &BrokerPlan,
    out: &OutputStream,
) -> Result<(), String> {
    let paths = AppPaths::new(root, BROKER);
    paths.ensure_shared().map_err(|e| format!("failed to create {}: {e}", paths.base.display()))?;
    let shared = paths.shared();
    let data = shared.join("data");
    std::fs::create_dir_all(&data).map_err(|e| format!("failed to create {}: {e}", data.display()))?;
    let redis = crate::frontend::find("redis-server")?;
    let conf = plan.redis_conf(&data.to_string_lossy()).map_err(|e| e.to_string())?;
    let conf_path = shared.join("redis.conf");
    let changed = std::fs::read_to_string(&conf_path).map_or(true, |old| old != conf);
    if changed {
        crate::private_file::write_private(&conf_path, conf.as_bytes())
            .map_err(|e| format!("failed to write {}: {e}", conf_path.display()))?;
    }
    out.push(&format!(
        "broker: Redis on {}:{}, data in {}; redis.conf {}\n",
        plan.address,
        plan.port,
        data.display(),
        if changed { "changed" } else { "unchanged" }
    ));
    let spec = ServiceSpec {
        name: REDIS.into(),
        script: redis.to_string_lossy().into_owned(),
        args: vec![conf_path.to_string_lossy().into_owned()],
        client: false,
        ready: None,
    };
    let was_running = supervisor.is_running(BROKER, REDIS);
    if changed && was_running {
        supervisor.stop_app(BROKER, out).await;
    }
    supervisor.start_app(&paths, BROKER, &[spec], &Default::default(), out).await?;
    if was_running && !changed {
        return Ok(());
    }
    // A Redis that cannot bind its address or read its data fails Setup or Configure by name.
    supervisor.check_up(&paths, BROKER, &[REDIS], out).await
}
