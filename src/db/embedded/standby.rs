//! A streaming standby of a local cluster, for the tests and the benchmark of reads on a
//! standby.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::{ClusterError, LocalCluster, SUPERUSER, chown, free_port, io, lock, running_port};

impl LocalCluster {
    /// A streaming standby of this cluster kept under `root/postgres`: copied with
    /// `pg_basebackup -R` on first use (it then replays over a replication connection, read-only,
    /// as a hot standby), started on a free port, or adopted when it runs.
    pub async fn start_standby(&self, root: &Path) -> Result<Self, ClusterError> {
        fs::create_dir_all(root).map_err(io(format!("cannot create {}", root.display())))?;
        let root = root
            .canonicalize()
            .map_err(io(format!("cannot resolve {}", root.display())))?;
        if self.account.is_some() {
            fs::set_permissions(&root, fs::Permissions::from_mode(0o711))
                .map_err(io(format!("cannot set permissions on {}", root.display())))?;
        }
        let _lock = lock(&root.join("cluster.lock")).await?;
        let mut standby = LocalCluster {
            bin_dir: self.bin_dir.clone(),
            pgdata: root.join("postgres"),
            port: 0,
            password: self.password.clone(),
            account: self.account,
            launched: false,
        };
        if !standby.pgdata.join("PG_VERSION").exists() {
            fs::create_dir_all(&standby.pgdata).map_err(io("cannot create the data directory"))?;
            fs::set_permissions(&standby.pgdata, fs::Permissions::from_mode(0o700))
                .map_err(io("cannot set permissions on the data directory"))?;
            if let Some(account) = self.account {
                chown(&standby.pgdata, account)?;
            }
            let (pgdata, port) = (standby.pgdata.to_string_lossy(), self.port.to_string());
            let args = [
                "-D",
                &pgdata,
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                SUPERUSER,
            ];
            // -R writes the connection, password included, for the standby to replay over.
            self.run_with("pg_basebackup", &args, &[("PGPASSWORD", &self.password)])
                .await?;
        }
        match running_port(&standby.pgdata) {
            Some(port) => standby.port = port,
            None => {
                standby.port = free_port()?;
                standby.launch().await?;
                standby.launched = true;
            }
        }
        standby.wait_until_ready().await?;
        Ok(standby)
    }
}
